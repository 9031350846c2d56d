// A Clock that only moves when told to.
#ifndef DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
#define DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_

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
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_FAKE_CLOCK_H_
