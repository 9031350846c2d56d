// Time, behind an interface so that tests control it exactly (no real sleeping).
#ifndef DATAGEN_AGENT_COMMON_CLOCK_H_
#define DATAGEN_AGENT_COMMON_CLOCK_H_

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <functional>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace datagen {

// Three clocks. The wall clock (Now) is only for instants that are stored or compared with the
// server's (expires_at, stored_at, HTTP dates). Every elapsed-time decision (poll spacing and
// the login's deadline, backoff, staleness, refresh and revocation schedules, idle time) uses
// boot time (BootTime, CLOCK_BOOTTIME): it never jumps when someone sets the wall clock, and,
// unlike CLOCK_MONOTONIC, it keeps counting while the machine is suspended, so a laptop that
// slept two hours does not believe ten minutes passed. Monotonic (CLOCK_MONOTONIC) is only for
// measuring how long something took while the process ran (doctor's timings). Boot and
// monotonic values are absl::Time only for arithmetic: their epoch is arbitrary, so never
// compare them with wall instants, with each other, or print them.
//
// Thread-safe. Implementations must be usable from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual absl::Time Now() = 0;
  // The current monotonic time (arbitrary epoch; stops while the machine is suspended).
  virtual absl::Time Monotonic() = 0;
  // The current boot time (arbitrary epoch; counts the time the machine was suspended).
  virtual absl::Time BootTime() = 0;
  // Blocks until BootTime() >= `until` or `cancel` is notified, whichever comes first. Returns
  // false when cancelled (also when `cancel` was already notified on entry).
  virtual bool SleepUntil(absl::Time until, absl::Notification& cancel) = 0;

  // Simulated time. A loop that waits on a kernel timer armed from this clock's readings (the
  // wake loop, the server's idle check) cannot see a simulated clock move: it subscribes here,
  // and `moved` is called each time the clock moves other than by SleepUntil, on the mover's
  // thread; it must not block or call Subscribe or Unsubscribe. The real clock's moves are the
  // kernel's, which its timers follow, so it never calls anyone. Returns a handle for Unsubscribe.
  virtual uint64_t Subscribe(std::function<void()> moved) {
    (void)moved;
    return 0;
  }
  // Once it returns, the subscriber is not called again (nor still running).
  virtual void Unsubscribe(uint64_t handle) { (void)handle; }
};

// CLOCK_MONOTONIC as an absl::Time (arbitrary epoch; see Clock).
absl::Time MonotonicNow();
// CLOCK_BOOTTIME as an absl::Time (arbitrary epoch; see Clock).
absl::Time BootTimeNow();

// The system clock. A process-wide singleton; never deleted.
class RealClock final : public Clock {
 public:
  static RealClock* Get() {
    static RealClock* clock = new RealClock;
    return clock;
  }
  absl::Time Now() override { return absl::Now(); }
  absl::Time Monotonic() override { return MonotonicNow(); }
  absl::Time BootTime() override { return BootTimeNow(); }
  // Waits in steps of at most a second: abseil's timed waits end at a wall-clock instant, so a
  // step bounds how far a wall clock set back can stretch the sleep, and a sleep that a suspend
  // overran ends within a second of resume.
  bool SleepUntil(absl::Time until, absl::Notification& cancel) override {
    while (true) {
      absl::Duration left = until - BootTimeNow();
      if (left <= absl::ZeroDuration()) return !cancel.HasBeenNotified();
      if (cancel.WaitForNotificationWithTimeout(std::min(left, absl::Seconds(1)))) return false;
    }
  }
};

inline absl::Time MonotonicNow() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return absl::UnixEpoch() + absl::DurationFromTimespec(now);
}

inline absl::Time BootTimeNow() {
  timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now);
  return absl::UnixEpoch() + absl::DurationFromTimespec(now);
}

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_CLOCK_H_
