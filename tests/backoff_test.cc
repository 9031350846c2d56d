#include "agent/common/backoff.h"

#include "gtest/gtest.h"

namespace datagen {
namespace {

TEST(BackoffTest, StartsAtTheFirstWaitAndDoubles) {
  EXPECT_EQ(ExponentialBackoff(0, absl::Seconds(5), absl::Minutes(10)), absl::Seconds(5));
  EXPECT_EQ(ExponentialBackoff(1, absl::Seconds(5), absl::Minutes(10)), absl::Seconds(5));
  EXPECT_EQ(ExponentialBackoff(2, absl::Seconds(5), absl::Minutes(10)), absl::Seconds(10));
  EXPECT_EQ(ExponentialBackoff(4, absl::Seconds(5), absl::Minutes(10)), absl::Seconds(40));
}

TEST(BackoffTest, NeverWaitsMoreThanTheCapHoweverManyFailures) {
  EXPECT_EQ(ExponentialBackoff(8, absl::Seconds(5), absl::Minutes(10)), absl::Minutes(10));
  EXPECT_EQ(ExponentialBackoff(1000000, absl::Seconds(1), absl::Minutes(5)), absl::Minutes(5));
}

TEST(BackoffTest, AFirstWaitAboveTheCapIsKept) {
  // A server's polling interval above the cap: never poll faster than the server asked.
  EXPECT_EQ(ExponentialBackoff(3, absl::Seconds(90), absl::Seconds(60)), absl::Seconds(90));
}

}  // namespace
}  // namespace datagen
