// Holds N Watch streams open on the agent (to measure what they cost it); prints "ready" once
// every stream got its first event, then waits for SIGTERM/SIGINT.
//
// Usage: watchers SOCKET_PATH N
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "client/agent_client.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace {

class Watcher final : public grpc::ClientReadReactor<datagen::agent::v1::WatchEvent> {
 public:
  Watcher(datagen::agent::v1::AuthAgent::StubInterface::async_interface* stub,
          std::atomic<int>* pending, absl::Notification* all_ready)
      : pending_(pending), all_ready_(all_ready) {
    stub->Watch(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (!first_seen_) {
      first_seen_ = true;
      if (--*pending_ == 0) all_ready_->Notify();
    }
    StartRead(&event_);
  }
  void OnDone(const grpc::Status&) override {}
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  datagen::agent::v1::WatchRequest request_;
  datagen::agent::v1::WatchEvent event_;
  std::atomic<int>* pending_;
  absl::Notification* all_ready_;
  bool first_seen_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: watchers SOCKET_PATH N\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  int n = std::atoi(argv[2]);
  // One connection, made and checked by the CLI's own client, carries every stream.
  datagen::cli::AgentClient::Options options;
  options.socket_path = argv[1];
  options.autostart = false;
  datagen::cli::AgentClient client(std::move(options));
  auto* stub = client.Async();
  if (stub == nullptr) {
    std::fprintf(stderr, "watchers: cannot reach the agent at %s\n", argv[1]);
    return 1;
  }
  std::atomic<int> pending{n};
  absl::Notification all_ready;
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < n; ++i) {
    watchers.push_back(std::make_unique<Watcher>(stub, &pending, &all_ready));
  }
  if (!all_ready.WaitForNotificationWithTimeout(absl::Seconds(60))) {
    std::fprintf(stderr, "watchers: only %d of %d streams started\n", n - pending.load(), n);
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  std::_Exit(0);  // the streams end with the process
}
