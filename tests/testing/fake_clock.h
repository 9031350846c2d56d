// A Clock that only moves when told to, or when someone sleeps on it: SleepUntil jumps the time
// forward at once, so code that waits runs instantly and deterministically in tests.
#ifndef DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
#define DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/clock.h"

namespace datagen::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1795820000)) : now_(start) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  bool SleepUntil(absl::Time until, absl::Notification& cancel) override {
    if (cancel.HasBeenNotified()) return false;
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(until - now_);
    if (until > now_) now_ = until;
    return true;
  }
  void Advance(absl::Duration d) {
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
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
