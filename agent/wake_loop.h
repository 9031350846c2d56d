// A background thread that runs a piece of work when it is due: the work returns when it is
// next due, and the thread sleeps until then (or until poked). Nothing wakes it otherwise: an
// idle agent has no periodic wake-ups.
#ifndef DATAGEN_AGENT_WAKE_LOOP_H_
#define DATAGEN_AGENT_WAKE_LOOP_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace datagen {

// Thread-safe. Stops (and joins) on destruction.
class WakeLoop {
 public:
  // `work` runs on the loop's thread, first at once; it returns when to run next
  // (InfiniteFuture: only when poked).
  explicit WakeLoop(std::function<absl::Time()> work);
  ~WakeLoop();

  // Runs the work again soon. Never blocks on the work.
  void Poke() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop();

  std::function<absl::Time()> work_;
  absl::Mutex mu_;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_WAKE_LOOP_H_
