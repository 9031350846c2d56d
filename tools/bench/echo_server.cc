// The baseline for the agent's throughput: a bare callback-API gRPC server with the agent's
// API on a Unix socket, whose GetStatus answers a fixed reply (no session, no checks).
//
// Usage: echo_server SOCKET_PATH   (serves until SIGTERM/SIGINT)
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace {

class Echo final : public datagen::agent::v1::AuthAgent::CallbackService {
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const datagen::agent::v1::GetStatusRequest*,
                                      datagen::agent::v1::GetStatusResponse* response) override {
    response->set_email("you@yourcompany.com");
    response->set_active_org_slug("yourcompany");
    response->set_role("admin");
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: echo_server SOCKET_PATH\n");
    return 2;
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  unlink(argv[1]);
  Echo service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string("unix:") + argv[1], grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  server->Shutdown();
  return 0;
}
