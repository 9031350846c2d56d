// Time, behind an interface so that tests control it exactly (no real sleeping).
#ifndef DATAGEN_AGENT_CLOCK_H_
#define DATAGEN_AGENT_CLOCK_H_

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace datagen {

// Thread-safe. Implementations must be usable from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual absl::Time Now() = 0;
  // Blocks until Now() >= `until` or `cancel` is notified, whichever comes first. Returns false
  // when cancelled (also when `cancel` was already notified on entry).
  virtual bool SleepUntil(absl::Time until, absl::Notification& cancel) = 0;
};

// The system clock. A process-wide singleton; never deleted.
class RealClock final : public Clock {
 public:
  static RealClock* Get() {
    static RealClock* clock = new RealClock;
    return clock;
  }
  absl::Time Now() override { return absl::Now(); }
  bool SleepUntil(absl::Time until, absl::Notification& cancel) override {
    return !cancel.WaitForNotificationWithDeadline(until);
  }
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_CLOCK_H_
