#include "client/advice.h"

#include "agent/common/reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace datagen::cli {
namespace {

using ::testing::ElementsAre;

agent::v1::GetStatusResponse WithWarning(agent::v1::WarningKind kind, const std::string& message,
                                         const std::string& subject = "") {
  agent::v1::GetStatusResponse reply;
  reply.add_warnings(message);
  agent::v1::Warning* detail = reply.add_warning_details();
  detail->set_kind(kind);
  detail->set_message(message);
  detail->set_subject(subject);
  return reply;
}

// The agent says what happened; the CLI adds the command, chosen by kind (never by the text).
TEST(AdviceTest, AWarningsLineAddsTheCommandItsKindCallsFor) {
  auto member = WithWarning(agent::v1::WARNING_KIND_NOT_A_MEMBER, "no longer a member of x", "x");
  EXPECT_THAT(WarningLines(member.warnings(), member.warning_details()),
              ElementsAre("no longer a member of x; switch with: datagen auth org --use <slug>"));
  auto issuer = WithWarning(agent::v1::WARNING_KIND_OTHER_ISSUER, "issued by A", "A");
  EXPECT_THAT(WarningLines(issuer.warnings(), issuer.warning_details()),
              ElementsAre("issued by A. To sign in at the configured server: datagen auth login"));
  // The same words under another kind get no advice: the text is never matched.
  auto plain = WithWarning(agent::v1::WARNING_KIND_UNVERIFIED, "no longer a member of x");
  EXPECT_THAT(WarningLines(plain.warnings(), plain.warning_details()),
              ElementsAre("no longer a member of x"));
}

TEST(AdviceTest, AnAgentWithoutKindsHasItsWarningsShownAsTheyAre) {
  agent::v1::GetStatusResponse reply;
  reply.add_warnings("you are no longer a member of x; switch with: datagen auth org --use <slug>");
  EXPECT_THAT(WarningLines(reply.warnings(), reply.warning_details()),
              ElementsAre(reply.warnings(0)));
}

TEST(AdviceTest, RemediesAndNextStepsComeFromCodesAndReasons) {
  EXPECT_EQ(RemedyCommand(agent::v1::REMEDY_SIGN_IN), "datagen auth login");
  EXPECT_EQ(RemedyCommand(agent::v1::REMEDY_UNSPECIFIED), "");
  grpc::Status expired(grpc::StatusCode::UNAUTHENTICATED, "any words",
                       ReasonName(agent::v1::ERROR_REASON_LOGIN_EXPIRED));
  EXPECT_EQ(NextStep(expired, false), "run: datagen auth login (for a new code)");
  grpc::Status member(grpc::StatusCode::FAILED_PRECONDITION, "any words",
                      ReasonName(agent::v1::ERROR_REASON_NOT_A_MEMBER));
  EXPECT_EQ(NextStep(member, false), "run: datagen auth org --list");
  EXPECT_EQ(NextStep(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "not a member"), false),
            "run: datagen auth login")
      << "an older agent's code, whatever its words";
  EXPECT_EQ(NextStep(expired, true), "") << "no agent answered: nothing to run";
}

}  // namespace
}  // namespace datagen::cli
