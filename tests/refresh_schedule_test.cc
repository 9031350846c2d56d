#include "agent/session/refresh_schedule.h"

#include "agent/common/proto_time.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace datagen {
namespace {

const absl::Time kWall = absl::FromUnixSeconds(1795820000);
const absl::Time kMono = absl::FromUnixSeconds(500);  // unrelated to the wall clock

agent::v1::Credentials Token(absl::Duration lifetime, absl::Time stored = kWall) {
  agent::v1::Credentials c;
  c.set_token("dgat_a");
  c.set_refresh_token("dgrt_a");
  SetTime(stored, c.mutable_stored_at());
  SetTime(stored + lifetime, c.mutable_token_expires_at());
  return c;
}

TEST(RefreshScheduleTest, AQuarterOfTheLifetimeAheadOfExpiryOnTheMonotonicClock) {
  RefreshSchedule schedule(testing::NoJitter());
  // One hour: 15 min lead, capped at 5 min.
  EXPECT_EQ(schedule.Due(Token(absl::Hours(1)), kWall, kMono),
            kMono + absl::Hours(1) - absl::Minutes(5));
  // 8 minutes: 2 min lead.
  EXPECT_EQ(schedule.Due(Token(absl::Minutes(8)), kWall, kMono), kMono + absl::Minutes(6));
  // 2 seconds: at least 1 s lead.
  EXPECT_EQ(schedule.Due(Token(absl::Seconds(2)), kWall, kMono), kMono + absl::Seconds(1));
}

TEST(RefreshScheduleTest, AShortLivedTokenIsHandedOutUntilTheLastQuarterOfItsLife) {
  const absl::Duration most = absl::Seconds(60);
  EXPECT_EQ(RefreshSchedule::HandOutMargin(Token(absl::Hours(1)), most), most);
  EXPECT_EQ(RefreshSchedule::HandOutMargin(Token(absl::Seconds(3)), most),
            absl::Milliseconds(750));
  agent::v1::Credentials unknown = Token(absl::Seconds(3));
  unknown.clear_stored_at();
  EXPECT_EQ(RefreshSchedule::HandOutMargin(unknown, most), most) << "no lifetime known";
}

TEST(RefreshScheduleTest, WithoutARefreshTokenOrAnExpiryNever) {
  RefreshSchedule schedule(testing::NoJitter());
  agent::v1::Credentials no_refresh = Token(absl::Hours(1));
  no_refresh.clear_refresh_token();
  EXPECT_EQ(schedule.Due(no_refresh, kWall, kMono), absl::InfiniteFuture());
  agent::v1::Credentials no_expiry = Token(absl::Hours(1));
  no_expiry.clear_token_expires_at();
  EXPECT_EQ(schedule.Due(no_expiry, kWall, kMono), absl::InfiniteFuture());
}

// Background retries after a failure are unhurried (a caller with an expired token refreshes at
// once, whatever the backoff: Session::Read and GetToken), so that a fleet coming back from an
// outage does not stampede its server (tools/fleet/README.md): up to 10 minutes, doubling to an
// hour, each wait a full-jitter share of that.
TEST(RefreshScheduleTest, FailuresBackOffFromTenMinutesDoublingToAnHour) {
  RefreshSchedule schedule(testing::NoJitter());
  agent::v1::Credentials c = Token(absl::Hours(1));
  EXPECT_EQ(schedule.Failed(kMono), absl::Minutes(10));
  EXPECT_EQ(schedule.Due(c, kWall, kMono), kMono + absl::Minutes(10));
  EXPECT_EQ(schedule.Failed(kMono), absl::Minutes(20));
  for (int i = 0; i < 20; ++i) schedule.Failed(kMono);
  EXPECT_EQ(schedule.Failed(kMono), RefreshSchedule::kMaxBackoff);
  schedule.Reset();
  EXPECT_EQ(schedule.Due(c, kWall, kMono), kMono + absl::Hours(1) - absl::Minutes(5));
}

TEST(RefreshScheduleTest, AWallClockStepMovesTheScheduleOnlyByWhatTheExpiryMoved) {
  RefreshSchedule schedule(testing::NoJitter());
  agent::v1::Credentials c = Token(absl::Hours(1));
  absl::Time due = schedule.Due(c, kWall, kMono);
  // Ten minutes later the wall clock is set an hour back: the expiry, a wall instant, is now
  // 1 h 50 min away by the wall clock, and the schedule follows it.
  absl::Time later_mono = kMono + absl::Minutes(10);
  absl::Time stepped_wall = kWall + absl::Minutes(10) - absl::Hours(1);
  EXPECT_EQ(schedule.Due(c, stepped_wall, later_mono), due + absl::Hours(1));
  // A failure's backoff is monotonic: no wall step moves it.
  schedule.Failed(kMono);
  EXPECT_EQ(schedule.Due(c, stepped_wall, later_mono), kMono + absl::Minutes(10));
}

// Issue 21, finding 10: the refresh lead is jittered, drawn once per token, down to half of
// the full lead (still well ahead of expiry), and every backoff is a full-jitter share.
TEST(RefreshScheduleTest, TheLeadAndTheBackoffAreJitteredByTheInjectedRandomness) {
  FixedRandom bottom(0.0), middle(0.5);
  RefreshSchedule low(bottom);
  EXPECT_EQ(low.Due(Token(absl::Hours(1)), kWall, kMono),
            kMono + absl::Hours(1) - absl::Minutes(2.5));
  EXPECT_EQ(low.Failed(kMono), RefreshSchedule::kMinBackoff);
  RefreshSchedule mid(middle);
  EXPECT_EQ(mid.Due(Token(absl::Hours(1)), kWall, kMono),
            kMono + absl::Hours(1) - absl::Minutes(3.75));
  EXPECT_EQ(mid.Failed(kMono), absl::Seconds(1) + (absl::Minutes(10) - absl::Seconds(1)) / 2);
  // Drawn once per token: asking again gives the same instant; a new token draws anew.
  SeededRandom seeded(7);
  RefreshSchedule schedule(seeded);
  absl::Time due = schedule.Due(Token(absl::Hours(1)), kWall, kMono);
  EXPECT_EQ(schedule.Due(Token(absl::Hours(1)), kWall, kMono), due);
  EXPECT_GE(due, kMono + absl::Hours(1) - absl::Minutes(5));
  EXPECT_LE(due, kMono + absl::Hours(1) - absl::Minutes(2.5));
  bool moved = false;
  for (int i = 0; i < 10 && !moved; ++i) {
    schedule.Reset();
    moved = schedule.Due(Token(absl::Hours(1)), kWall, kMono) != due;
  }
  EXPECT_TRUE(moved) << "Reset draws a new lead";
}

// Issue 21, finding 9: the schedule is on boot time, which counts a suspend; a machine that
// slept through the due time finds it due when it wakes.
TEST(RefreshScheduleTest, ASuspendCountsTowardsTheSchedule) {
  RefreshSchedule schedule(testing::NoJitter());
  testing::FakeClock clock(kWall);
  agent::v1::Credentials c = Token(absl::Hours(1));
  absl::Time due = schedule.Due(c, clock.Now(), clock.BootTime());
  clock.Suspend(absl::Hours(2));  // monotonic time stands still
  EXPECT_LE(schedule.Due(c, clock.Now(), clock.BootTime()), clock.BootTime());
  EXPECT_GT(due, clock.Monotonic()) << "on the monotonic clock it would not be due yet";
}

}  // namespace
}  // namespace datagen
