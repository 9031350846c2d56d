// A background thread that runs a piece of work when it is due: the work returns when it is
// next due, and the thread sleeps until then (or until poked). Nothing wakes it otherwise: an
// idle agent has no periodic wake-ups.
#ifndef DATAGEN_AGENT_WAKE_LOOP_H_
#define DATAGEN_AGENT_WAKE_LOOP_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "agent/common/clock.h"

namespace datagen {

// Thread-safe. Stops (and joins) on destruction. Does not own `clock`.
class WakeLoop {
 public:
  // `work` runs on the loop's thread, first at once; it returns when to run next, on `clock`'s
  // monotonic time (InfiniteFuture: only when poked). The loop sleeps for that instant minus
  // clock.Monotonic(), on CLOCK_MONOTONIC (std::condition_variable with steady_clock), so setting
  // the wall clock neither shortens nor stretches it; with a fake clock, Poke after moving it.
  WakeLoop(Clock& clock, std::function<absl::Time()> work);
  ~WakeLoop();

  // Runs the work again soon. Never blocks on the work.
  void Poke();
  // Ends the loop once the work in progress, if any, returns; joins its thread. Idempotent.
  void Stop();

 private:
  void Loop();

  Clock& clock_;
  std::function<absl::Time()> work_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_WAKE_LOOP_H_
