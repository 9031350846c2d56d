// agent/common/reason: a reason rides on an absl::Status from where the error is made to the
// RPC edge, and its wire name maps back, unknown names (a newer agent's) to UNSPECIFIED.
#include "agent/common/reason.h"

#include "gtest/gtest.h"

namespace datagen {
namespace {

TEST(ReasonTest, RidesOnTheStatusAndSurvivesACopy) {
  absl::Status status =
      WithReason(absl::FailedPreconditionError("x"), agent::v1::ERROR_REASON_NOT_A_MEMBER);
  absl::Status copy = status;
  EXPECT_EQ(ReasonOf(copy), agent::v1::ERROR_REASON_NOT_A_MEMBER);
  EXPECT_EQ(copy.message(), "x");
  EXPECT_EQ(ReasonOf(absl::FailedPreconditionError("x")), agent::v1::ERROR_REASON_UNSPECIFIED);
  EXPECT_TRUE(WithReason(absl::OkStatus(), agent::v1::ERROR_REASON_NOT_A_MEMBER).ok());
}

TEST(ReasonTest, WireNamesMapBothWays) {
  for (int value = 0; value <= 7; ++value) {
    auto reason = static_cast<agent::v1::ErrorReason>(value);
    EXPECT_EQ(ReasonFromName(ReasonName(reason)), reason) << value;
  }
  EXPECT_EQ(ReasonName(agent::v1::ERROR_REASON_NOT_A_MEMBER), "ERROR_REASON_NOT_A_MEMBER");
  EXPECT_EQ(ReasonFromName("ERROR_REASON_FROM_THE_FUTURE"), agent::v1::ERROR_REASON_UNSPECIFIED);
  EXPECT_EQ(ReasonFromName(""), agent::v1::ERROR_REASON_UNSPECIFIED);
}

}  // namespace
}  // namespace datagen
