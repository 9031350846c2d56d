// A fixed pool of threads for work that may block on the network, so that gRPC's callback
// threads never do.
#ifndef DATAGEN_AGENT_RUNTIME_EXECUTOR_H_
#define DATAGEN_AGENT_RUNTIME_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace datagen {

// Thread-safe. Shutdown (or the destructor) runs every task already queued, then joins the
// threads; tasks given after that are dropped.
class Executor {
 public:
  explicit Executor(int threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Run(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs what is queued, then stops the threads. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RUNTIME_EXECUTOR_H_
