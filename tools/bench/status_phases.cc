// One warm `datagen auth status`, in the CLI's own steps, each timed inside this process (a
// fresh process per run, as the CLI is): connect and peer check (ConnectToAgent: the folder,
// the socket's owner, SO_PEERCRED), gRPC start-up (the direct channel over that socket and the
// stub), the call (GetStatus), and rendering the reply as text. Exec, the static initializers
// and exit are what `datagen --version` costs as a whole process, which tools/benchmark times
// beside it. Prints one line:
//   connect_us <TAB> grpc_us <TAB> call_us <TAB> render_us <TAB> threads_before <TAB> threads_after
// threads: this process's threads before gRPC starts and after the call (gRPC's own).
//
// Usage: status_phases SOCKET_PATH
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "agent/common/paths.h"
#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/render.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

long Micros(Clock::time_point from, Clock::time_point to) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
}

int Threads() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) n += entry->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: status_phases SOCKET_PATH\n");
    return 2;
  }
  const std::string socket = argv[1];
  const Clock::time_point start = Clock::now();
  absl::StatusOr<int> fd = datagen::ConnectToAgent(socket, getuid());
  if (!fd.ok()) {
    std::fprintf(stderr, "status_phases: %s\n", std::string(fd.status().message()).c_str());
    return 1;
  }
  const Clock::time_point connected = Clock::now();
  const int threads_before = Threads();
  fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
  auto stub = datagen::agent::v1::AuthAgent::NewStub(datagen::cli::ChannelOverSocket(socket, *fd));
  const Clock::time_point started = Clock::now();
  grpc::ClientContext context;
  datagen::agent::v1::GetStatusRequest request;
  request.set_answer_signed_out(true);
  datagen::agent::v1::GetStatusResponse reply;
  grpc::Status status = stub->GetStatus(&context, request, &reply);
  const Clock::time_point answered = Clock::now();
  if (!status.ok()) {
    std::fprintf(stderr, "status_phases: %s\n", status.error_message().c_str());
    return 1;
  }
  const int threads_after = Threads();
  std::string text = datagen::cli::Render(reply, datagen::cli::Format::kText);
  if (FILE* null = std::fopen("/dev/null", "w")) {
    std::fwrite(text.data(), 1, text.size(), null);
    std::fclose(null);
  }
  const Clock::time_point rendered = Clock::now();
  std::printf("%ld\t%ld\t%ld\t%ld\t%d\t%d\n", Micros(start, connected), Micros(connected, started),
              Micros(started, answered), Micros(answered, rendered), threads_before, threads_after);
  return 0;
}
