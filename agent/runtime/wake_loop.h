// A background thread that runs a piece of work when it is due: the work returns when it is
// next due, and the thread sleeps until then (or until poked). Nothing wakes it otherwise: an
// idle agent has no periodic wake-ups.
#ifndef DATAGEN_AGENT_RUNTIME_WAKE_LOOP_H_
#define DATAGEN_AGENT_RUNTIME_WAKE_LOOP_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "agent/common/clock.h"
#include "agent/common/fd_io.h"

namespace datagen {

// Thread-safe. Stops (and joins) on destruction. Does not own `clock`.
class WakeLoop {
 public:
  // `work` runs on the loop's thread, first at once; it returns when to run next, on `clock`'s
  // boot time (InfiniteFuture: only when poked). The loop sleeps for that instant minus
  // clock.BootTime() on a CLOCK_BOOTTIME timer (timerfd), which counts the time the machine is
  // suspended and fires on resume when it expired meanwhile: a refresh that fell due during a
  // two-hour suspend runs within a second of resume, not after the rest of the interval on a
  // clock that stood still. Setting the wall clock neither shortens nor stretches it. A
  // simulated clock's moves (Clock::Subscribe) make it look again, as a poke would.
  WakeLoop(Clock& clock, std::function<absl::Time()> work);
  ~WakeLoop();

  // Runs the work again soon. Never blocks on the work.
  void Poke();
  // Ends the loop once the work in progress, if any, returns; joins its thread. Idempotent.
  void Stop();

  // Blocks until the work has run at least `runs` times and the loop is waiting after it, and
  // returns what it armed its timer for then (InfiniteDuration: nothing but a poke wakes it).
  // For tests, which learn so that an idle loop is idle without watching it for a while.
  absl::Duration AwaitWaiting(uint64_t runs);

 private:
  void Loop();
  // Waits until `left` has passed on CLOCK_BOOTTIME (forever when infinite) or the loop is
  // poked or stopped.
  void Wait(absl::Duration left);

  Clock& clock_;
  std::function<absl::Time()> work_;
  UniqueFd timer_fd_;  // timerfd on CLOCK_BOOTTIME
  UniqueFd wake_fd_;   // eventfd: Poke and Stop
  uint64_t clock_subscription_ = 0;
  std::mutex mu_;
  std::condition_variable waiting_changed_;  // with mu_: AwaitWaiting
  bool stopping_ = false;                    // guarded by mu_
  uint64_t runs_ = 0;                        // guarded by mu_: the work's runs so far
  bool waiting_ = false;                     // guarded by mu_: in Wait's poll
  absl::Duration armed_;                     // guarded by mu_: Wait's `left` while waiting_
  std::thread thread_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RUNTIME_WAKE_LOOP_H_
