#include "agent/session/status_reply.h"

#include "agent/common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::datagen::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

server::v1::UserInfo You() {
  server::v1::UserInfo user;
  user.set_email("you@yourcompany.com");
  auto* a = user.add_memberships();
  a->set_slug("first");
  a->set_role("member");
  auto* b = user.add_memberships();
  b->set_slug("yourcompany");
  b->set_role("admin");
  b->set_is_default(true);
  return user;
}

agent::v1::Credentials Session(const std::string& org) {
  agent::v1::Credentials c;
  c.set_token("dgat_a");
  c.set_active_org_slug(org);
  SetTime(absl::FromUnixSeconds(1795820000), c.mutable_stored_at());
  SetTime(absl::FromUnixSeconds(1795823600), c.mutable_token_expires_at());
  return c;
}

SessionContext Context() {
  SessionContext context;
  context.issuer = "https://a.example";
  context.configured_issuer = "https://a.example";
  context.revocations_pending = 2;
  return context;
}

TEST(StatusReplyTest, TheDefaultOrganizationIsTheMarkedOneElseTheFirstElseNone) {
  EXPECT_EQ(DefaultOrganization(You()), "yourcompany");
  server::v1::UserInfo unmarked = You();
  unmarked.mutable_memberships(1)->set_is_default(false);
  EXPECT_EQ(DefaultOrganization(unmarked), "first");
  EXPECT_EQ(DefaultOrganization(server::v1::UserInfo()), "");
}

TEST(StatusReplyTest, TheReplyCarriesTheSessionTheRoleAndTheContext) {
  agent::v1::GetStatusResponse reply =
      BuildStatusReply(Session("yourcompany"), You(), Context(),
                       {MakeWarning(agent::v1::WARNING_KIND_FILE_REPAIRED, "repaired the mode")});
  EXPECT_EQ(reply.email(), "you@yourcompany.com");
  EXPECT_EQ(reply.active_org_slug(), "yourcompany");
  EXPECT_EQ(reply.role(), "admin");
  EXPECT_EQ(reply.api_url(), "https://a.example");
  EXPECT_EQ(reply.configured_api_url(), "https://a.example");
  EXPECT_EQ(reply.revocations_pending(), 2);
  EXPECT_EQ(ToTime(reply.token_expires_at()), absl::FromUnixSeconds(1795823600));
  EXPECT_THAT(reply.warnings(), ElementsAre("repaired the mode"));
  ASSERT_EQ(reply.warning_details_size(), 1);
  EXPECT_EQ(reply.warning_details(0).kind(), agent::v1::WARNING_KIND_FILE_REPAIRED);
}

TEST(StatusReplyTest, WarningsForALostMembershipAnUnsavedTokenAndAnotherIssuer) {
  SessionContext context = Context();
  context.unsaved = true;
  context.unsaved_error = "disk full";
  context.configured_issuer = "https://b.example";
  agent::v1::GetStatusResponse reply = BuildStatusReply(Session("gone"), You(), context, {});
  EXPECT_EQ(reply.role(), "");
  ASSERT_EQ(reply.warnings_size(), 3);
  EXPECT_THAT(reply.warnings(0), HasSubstr("no longer a member of the active organization gone"));
  EXPECT_THAT(reply.warnings(1), HasSubstr("could not be saved (disk full)"));
  EXPECT_THAT(reply.warnings(2), HasSubstr("issued by https://a.example, but the agent is "
                                           "configured for https://b.example"));
  // Each with its kind and subject, for programs; no message names a command of the CLI (an
  // IDE plugin shows these too: the advice is the client's).
  ASSERT_EQ(reply.warning_details_size(), 3);
  EXPECT_EQ(reply.warning_details(0).kind(), agent::v1::WARNING_KIND_NOT_A_MEMBER);
  EXPECT_EQ(reply.warning_details(0).subject(), "gone");
  EXPECT_EQ(reply.warning_details(1).kind(), agent::v1::WARNING_KIND_TOKEN_NOT_SAVED);
  EXPECT_EQ(reply.warning_details(2).kind(), agent::v1::WARNING_KIND_OTHER_ISSUER);
  EXPECT_EQ(reply.warning_details(2).subject(), "https://a.example");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reply.warning_details(i).message(), reply.warnings(i));
    EXPECT_THAT(reply.warnings(i), Not(HasSubstr("datagen ")));
  }
}

TEST(StatusReplyTest, NoWarningsWhenAllIsWell) {
  Warnings warnings;
  WarnIfNotMember(Session("first"), You(), &warnings);
  WarnIfNotMember(Session(""), You(), &warnings);  // no organization chosen: nothing to lose
  AddStandingWarnings(Context(), &warnings);
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(StatusReplyTest, TheErrorsOfASessionThatCannotBeUsed) {
  EXPECT_THAT(NotSignedInError(), StatusIs(absl::StatusCode::kUnauthenticated, "not signed in"));
  EXPECT_THAT(NotSignedInError(3), StatusIs(absl::StatusCode::kUnauthenticated,
                                            HasSubstr("3 token(s) of an ended session")));
  EXPECT_THAT(ExpiredError("revoked"),
              StatusIs(absl::StatusCode::kUnauthenticated, "your session expired: revoked"));
}

}  // namespace
}  // namespace datagen
