// A Clock that only moves when told to, or when someone sleeps on it: SleepUntil jumps the time
// forward at once, so code that waits runs instantly and deterministically in tests. Wall and
// monotonic time start equal and move together, except that StepWall sets the wall clock alone
// (as a person or NTP does), so tests show which of the two a piece of code follows.
#ifndef DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
#define DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/common/clock.h"

namespace datagen::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1795820000))
      : now_(start), mono_(start) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  absl::Time Monotonic() override {
    absl::MutexLock lock(&mu_);
    return mono_;
  }
  bool SleepUntil(absl::Time until, absl::Notification& cancel) override {
    if (cancel.HasBeenNotified()) return false;
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(until - mono_);
    if (until > mono_) {
      now_ += until - mono_;
      mono_ = until;
    }
    return true;
  }
  // Time passes: both clocks move.
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
    mono_ += d;
  }
  // The wall clock is set (forward or back); monotonic time does not move.
  void StepWall(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  // How long each SleepUntil asked to sleep, in order.
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Time mono_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
