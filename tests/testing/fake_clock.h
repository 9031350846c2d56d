// A Clock that only moves when told to, or when someone sleeps on it: SleepUntil jumps the time
// forward at once, so code that waits runs instantly and deterministically in tests. Advance,
// Suspend and StepWall call the subscribers (Clock::Subscribe) once the clock has moved, so loops
// waiting on timers for it look again: tests advance time instead of sleeping. Wall,
// monotonic and boot time start equal and move together, except that StepWall sets the wall
// clock alone (as a person or NTP does) and Suspend moves wall and boot time while monotonic
// time stands still (as a laptop's lid closed), so tests show which clock a piece of code follows.
#ifndef DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
#define DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/common/clock.h"
#include "agent/common/random.h"

namespace datagen::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1795820000))
      : now_(start), mono_(start), boot_(start) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  absl::Time Monotonic() override {
    absl::MutexLock lock(&mu_);
    return mono_;
  }
  absl::Time BootTime() override {
    absl::MutexLock lock(&mu_);
    return boot_;
  }
  bool SleepUntil(absl::Time until, absl::Notification& cancel) override {
    if (cancel.HasBeenNotified()) return false;
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(until - boot_);
    if (until > boot_) {
      now_ += until - boot_;
      mono_ += until - boot_;
      boot_ = until;
    }
    return true;
  }
  // Time passes: every clock moves.
  void Advance(absl::Duration d) {
    {
      absl::MutexLock lock(&mu_);
      now_ += d;
      mono_ += d;
      boot_ += d;
    }
    TellSubscribers();
  }
  // The machine sleeps for `d`: wall and boot time move, monotonic time does not.
  void Suspend(absl::Duration d) {
    {
      absl::MutexLock lock(&mu_);
      now_ += d;
      boot_ += d;
    }
    TellSubscribers();
  }
  // The wall clock is set (forward or back); monotonic time does not move.
  void StepWall(absl::Duration d) {
    {
      absl::MutexLock lock(&mu_);
      now_ += d;
    }
    TellSubscribers();
  }
  uint64_t Subscribe(std::function<void()> moved) override {
    absl::MutexLock lock(&subscribers_mu_);
    subscribers_[next_subscriber_] = std::move(moved);
    return next_subscriber_++;
  }
  void Unsubscribe(uint64_t handle) override {
    absl::MutexLock lock(&subscribers_mu_);
    subscribers_.erase(handle);
  }
  // How long each SleepUntil asked to sleep, in order.
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  void TellSubscribers() {
    absl::MutexLock lock(&subscribers_mu_);  // held while they run: see Unsubscribe
    for (auto& [handle, moved] : subscribers_) moved();
  }

  absl::Mutex subscribers_mu_;
  std::map<uint64_t, std::function<void()>> subscribers_ ABSL_GUARDED_BY(subscribers_mu_);
  uint64_t next_subscriber_ ABSL_GUARDED_BY(subscribers_mu_) = 1;
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Time mono_ ABSL_GUARDED_BY(mu_);
  absl::Time boot_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

// Randomness that always draws 1.0: every jittered wait is its longest, the schedule without
// jitter, so tests can assert exact instants. For FakeClock's users.
inline Random& NoJitter() {
  static FixedRandom* top = new FixedRandom(1.0);
  return *top;
}

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
