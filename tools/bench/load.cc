// Drives GetStatus on a gRPC Unix socket (the agent or echo_server) with a fixed number of
// calls in flight for a fixed time, over 4 connections made by the CLI's own AgentClient (its
// peer checks included, so both servers are reached the same way); prints
//   calls_per_second <TAB> p50_ms <TAB> p99_ms <TAB> errors
//
// Usage: load SOCKET_PATH IN_FLIGHT SECONDS [READY_FILE]
// READY_FILE, when given, is created once every call is in flight.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/agent_client.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace {

using Async = datagen::agent::v1::AuthAgent::StubInterface::async_interface;

struct Worker {
  Async* stub = nullptr;
  absl::Time end;
  std::vector<double> latencies_ms;  // touched by one callback at a time: one call in flight
  int errors = 0;
};

struct Shared {
  std::atomic<int> active{0};
  absl::Notification done;
};

struct Call {
  grpc::ClientContext context;
  datagen::agent::v1::GetStatusRequest request;
  datagen::agent::v1::GetStatusResponse response;
  absl::Time start;
};

void Issue(Worker* worker, Shared* shared) {
  auto* call = new Call;
  call->start = absl::Now();
  worker->stub->GetStatus(
      &call->context, &call->request, &call->response, [worker, shared, call](grpc::Status status) {
        absl::Time now = absl::Now();
        if (status.ok()) {
          worker->latencies_ms.push_back(absl::ToDoubleMilliseconds(now - call->start));
        } else {
          ++worker->errors;
        }
        delete call;
        if (now < worker->end) {
          Issue(worker, shared);
        } else if (--shared->active == 0) {
          shared->done.Notify();
        }
      });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: load SOCKET_PATH IN_FLIGHT SECONDS [READY_FILE]\n");
    return 2;
  }
  int in_flight = std::atoi(argv[2]);
  absl::Duration length = absl::Seconds(std::atof(argv[3]));
  // Each client is its own connection; the first call warms it up.
  std::vector<std::unique_ptr<datagen::cli::AgentClient>> clients;
  std::vector<Async*> stubs;
  for (int i = 0; i < 4; ++i) {
    datagen::cli::AgentClient::Options options;
    options.socket_path = argv[1];
    options.autostart = false;
    clients.push_back(std::make_unique<datagen::cli::AgentClient>(std::move(options)));
    datagen::agent::v1::GetStatusResponse response;
    grpc::Status warm = clients.back()->GetStatus(/*verify=*/false, &response);
    stubs.push_back(clients.back()->Async());
    if (!warm.ok() || stubs.back() == nullptr) {
      std::fprintf(stderr, "load: %s\n", warm.error_message().c_str());
      return 1;
    }
  }
  std::vector<Worker> workers(in_flight);
  Shared shared;
  shared.active = in_flight;
  absl::Time start = absl::Now();
  for (int i = 0; i < in_flight; ++i) {
    workers[i].stub = stubs[i % stubs.size()];
    workers[i].end = start + length;
    Issue(&workers[i], &shared);
  }
  // For whoever waits for the flood to be at full strength (the flood test): READY_FILE.
  if (argc == 5) {
    if (FILE* ready = std::fopen(argv[4], "w")) std::fclose(ready);
  }
  shared.done.WaitForNotification();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  int errors = 0;
  for (const Worker& w : workers) {
    all.insert(all.end(), w.latencies_ms.begin(), w.latencies_ms.end());
    errors += w.errors;
  }
  std::sort(all.begin(), all.end());
  if (all.empty()) {
    std::fprintf(stderr, "load: no successful call (%d errors)\n", errors);
    return 1;
  }
  std::printf("%.0f\t%.3f\t%.3f\t%d\n", all.size() / seconds, all[all.size() / 2],
              all[std::min(all.size() - 1, all.size() * 99 / 100)], errors);
  return errors == 0 ? 0 : 1;
}
