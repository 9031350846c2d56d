#include "agent/runtime/wake_loop.h"

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
  EXPECT_EQ(loop.AwaitWaiting(1), absl::InfiniteDuration()) << "no timer armed: nothing wakes it";
  EXPECT_EQ(runs, 1);
  loop.Poke();
  EXPECT_EQ(loop.AwaitWaiting(2), absl::InfiniteDuration());
  EXPECT_EQ(runs, 2);
}

TEST(WakeLoopTest, RunsAgainWhenDueOnTheClocksBootTime) {
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
  EXPECT_EQ(loop.AwaitWaiting(1), absl::Hours(1));
  clock.StepWall(absl::Hours(2));  // the loop looks again: still not due, by boot time
  EXPECT_EQ(loop.AwaitWaiting(2), absl::Hours(1)) << "the timer is armed as before the step";
  EXPECT_EQ(runs, 2);
}

// Issue 21, finding 9: the loop's schedule is on boot time, which a suspend moves on while
// monotonic time stands still; work due during the suspend is due when the machine wakes. (The
// real loop waits on a CLOCK_BOOTTIME timerfd, which fires on resume; the fake clock tells the
// loop it moved, as after any move of it.)
TEST(WakeLoopTest, WorkThatFellDueDuringASuspendRunsOnWaking) {
  FakeClock clock;
  std::atomic<int> runs{0}, due_runs{0};
  const absl::Time due = clock.BootTime() + absl::Minutes(10);
  WakeLoop loop(clock, [&] {
    ++runs;
    if (clock.BootTime() >= due) ++due_runs;
    return due;
  });
  EXPECT_EQ(loop.AwaitWaiting(1), absl::Minutes(10));
  clock.Suspend(absl::Hours(2));
  EXPECT_TRUE(WaitUntil([&] { return due_runs >= 1; }));
  EXPECT_LT(clock.Monotonic(), due) << "by the monotonic clock it would still wait";
}

// The wait itself is a real CLOCK_BOOTTIME timer: a due instant a few milliseconds ahead on a
// real clock's boot time is met without a poke.
TEST(WakeLoopTest, WaitsOnTheRealBootTimeClock) {
  std::atomic<int> runs{0};
  WakeLoop loop(*RealClock::Get(), [&] {
    ++runs;
    return RealClock::Get()->BootTime() + absl::Milliseconds(20);
  });
  EXPECT_TRUE(WaitUntil([&] { return runs >= 5; }));
}

TEST(WakeLoopTest, StopWaitsForTheWorkInProgressAndIsIdempotent) {
  FakeClock clock;
  std::atomic<bool> in_work{false}, finished{false};
  WakeLoop loop(clock, [&] {
    in_work = true;
    absl::SleepFor(absl::Milliseconds(100));  // the work's own length, which Stop must outwait
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
