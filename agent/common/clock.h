// Time, behind an interface so that tests control it exactly (no real sleeping).
#ifndef DATAGEN_AGENT_COMMON_CLOCK_H_
#define DATAGEN_AGENT_COMMON_CLOCK_H_

#include <time.h>

#include <algorithm>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace datagen {

// Two clocks. The wall clock (Now) is only for instants that are stored or compared with the
// server's (expires_at, stored_at, HTTP dates). Every interval and deadline (poll spacing,
// backoff, staleness, idle time, request deadlines) uses the monotonic clock (Monotonic),
// which never jumps when someone sets the wall clock. Monotonic values are absl::Time only for
// arithmetic: their epoch is arbitrary, so never compare them with wall instants or print them.
//
// Thread-safe. Implementations must be usable from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual absl::Time Now() = 0;
  // The current monotonic time (arbitrary epoch).
  virtual absl::Time Monotonic() = 0;
  // Blocks until Monotonic() >= `until` or `cancel` is notified, whichever comes first. Returns
  // false when cancelled (also when `cancel` was already notified on entry).
  virtual bool SleepUntil(absl::Time until, absl::Notification& cancel) = 0;
};

// CLOCK_MONOTONIC as an absl::Time (arbitrary epoch; see Clock).
absl::Time MonotonicNow();

// The system clock. A process-wide singleton; never deleted.
class RealClock final : public Clock {
 public:
  static RealClock* Get() {
    static RealClock* clock = new RealClock;
    return clock;
  }
  absl::Time Now() override { return absl::Now(); }
  absl::Time Monotonic() override { return MonotonicNow(); }
  // Waits in steps of at most a second: abseil's timed waits end at a wall-clock instant, so a
  // step bounds how far a wall clock set back can stretch the sleep.
  bool SleepUntil(absl::Time until, absl::Notification& cancel) override {
    while (true) {
      absl::Duration left = until - MonotonicNow();
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

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_CLOCK_H_
