#include "agent/wake_loop.h"

#include <atomic>

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/subprocess.h"

namespace datagen {
namespace {

using testing::FakeClock;
using testing::WaitUntil;

TEST(WakeLoopTest, RunsAtOnceThenOnlyWhenPokedIfNeverDue) {
  FakeClock clock;
  std::atomic<int> runs{0};
  WakeLoop loop(clock, [&] {
    ++runs;
    return absl::InfiniteFuture();
  });
  EXPECT_TRUE(WaitUntil([&] { return runs == 1; }));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(runs, 1) << "nothing wakes an idle loop";
  loop.Poke();
  EXPECT_TRUE(WaitUntil([&] { return runs == 2; }));
}

TEST(WakeLoopTest, RunsAgainWhenDueOnTheClocksMonotonicTime) {
  FakeClock clock;
  std::atomic<int> runs{0};
  // Due 50 ms of real waiting after each run, as measured on the injected clock.
  WakeLoop loop(clock, [&] {
    ++runs;
    return clock.BootTime() + absl::Milliseconds(50);
  });
  EXPECT_TRUE(WaitUntil([&] { return runs >= 3; }));
}

TEST(WakeLoopTest, AWallClockStepDoesNotWakeOrDelayIt) {
  FakeClock clock;
  std::atomic<int> runs{0};
  WakeLoop loop(clock, [&] {
    ++runs;
    return clock.BootTime() + absl::Hours(1);
  });
  EXPECT_TRUE(WaitUntil([&] { return runs == 1; }));
  clock.StepWall(absl::Hours(2));
  loop.Poke();  // look again: still not due, by the monotonic clock
  EXPECT_TRUE(WaitUntil([&] { return runs == 2; }));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(runs, 2);
}

TEST(WakeLoopTest, StopWaitsForTheWorkInProgressAndIsIdempotent) {
  FakeClock clock;
  std::atomic<bool> in_work{false}, finished{false};
  WakeLoop loop(clock, [&] {
    in_work = true;
    absl::SleepFor(absl::Milliseconds(100));
    finished = true;
    return absl::InfiniteFuture();
  });
  ASSERT_TRUE(WaitUntil([&] { return in_work.load(); }));
  loop.Stop();
  EXPECT_TRUE(finished) << "Stop returned while the work was still running";
  loop.Stop();
}

}  // namespace
}  // namespace datagen
