#include "agent/refresh_schedule.h"

#include "agent/common/proto_time.h"
#include "gtest/gtest.h"

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
  RefreshSchedule schedule;
  // One hour: 15 min lead, capped at 5 min.
  EXPECT_EQ(schedule.Due(Token(absl::Hours(1)), kWall, kMono),
            kMono + absl::Hours(1) - absl::Minutes(5));
  // 8 minutes: 2 min lead.
  EXPECT_EQ(schedule.Due(Token(absl::Minutes(8)), kWall, kMono), kMono + absl::Minutes(6));
  // 2 seconds: at least 1 s lead.
  EXPECT_EQ(schedule.Due(Token(absl::Seconds(2)), kWall, kMono), kMono + absl::Seconds(1));
}

TEST(RefreshScheduleTest, WithoutARefreshTokenOrAnExpiryNever) {
  RefreshSchedule schedule;
  agent::v1::Credentials no_refresh = Token(absl::Hours(1));
  no_refresh.clear_refresh_token();
  EXPECT_EQ(schedule.Due(no_refresh, kWall, kMono), absl::InfiniteFuture());
  agent::v1::Credentials no_expiry = Token(absl::Hours(1));
  no_expiry.clear_token_expires_at();
  EXPECT_EQ(schedule.Due(no_expiry, kWall, kMono), absl::InfiniteFuture());
}

TEST(RefreshScheduleTest, FailuresBackOffFromOneSecondDoublingToFiveMinutes) {
  RefreshSchedule schedule;
  agent::v1::Credentials c = Token(absl::Hours(1));
  EXPECT_EQ(schedule.Failed(kMono), absl::Seconds(1));
  EXPECT_EQ(schedule.Due(c, kWall, kMono), kMono + absl::Seconds(1));
  EXPECT_EQ(schedule.Failed(kMono), absl::Seconds(2));
  for (int i = 0; i < 20; ++i) schedule.Failed(kMono);
  EXPECT_EQ(schedule.Failed(kMono), RefreshSchedule::kMaxBackoff);
  schedule.Reset();
  EXPECT_EQ(schedule.Due(c, kWall, kMono), kMono + absl::Hours(1) - absl::Minutes(5));
}

TEST(RefreshScheduleTest, AWallClockStepMovesTheScheduleOnlyByWhatTheExpiryMoved) {
  RefreshSchedule schedule;
  agent::v1::Credentials c = Token(absl::Hours(1));
  absl::Time due = schedule.Due(c, kWall, kMono);
  // Ten minutes later the wall clock is set an hour back: the expiry, a wall instant, is now
  // 1 h 50 min away by the wall clock, and the schedule follows it.
  absl::Time later_mono = kMono + absl::Minutes(10);
  absl::Time stepped_wall = kWall + absl::Minutes(10) - absl::Hours(1);
  EXPECT_EQ(schedule.Due(c, stepped_wall, later_mono), due + absl::Hours(1));
  // A failure's backoff is monotonic: no wall step moves it.
  schedule.Failed(kMono);
  EXPECT_EQ(schedule.Due(c, stepped_wall, later_mono), kMono + absl::Seconds(1));
}

}  // namespace
}  // namespace datagen
