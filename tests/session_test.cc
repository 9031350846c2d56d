#include "agent/session.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/memory_credential_store.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using testing::FakeClock;
using testing::FakeHttpTransport;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::MemoryCredentialStore;
using testing::StatusIs;

constexpr char kIssuer[] = "https://id.example";
constexpr char kUserinfo[] = "https://id.example/v1/me";
constexpr char kRevoke[] = "https://id.example/oauth/revoke";
constexpr char kYou[] = R"({"email":"you@yourcompany.com","memberships":[
    {"slug":"yourcompany","role":"admin","default":true},{"slug":"test-org","role":"member"}]})";

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() { http_.Reply(kUserinfo, 200, kYou); }

  void SignIn(const std::string& org = "yourcompany") {
    agent::v1::Credentials c;
    c.set_token("dgat_tok");
    c.set_email("you@yourcompany.com");
    c.set_active_org_slug(org);
    store_.Put(c);
  }

  FakeHttpTransport http_;
  FakeClock clock_;
  MemoryCredentialStore store_;
  Discovery discovery_{http_, kIssuer};
  IdentityClient identity_{http_, discovery_, "datagen-cli"};
  Session session_{store_, identity_, clock_, kIssuer};
};

TEST_F(SessionTest, SignedOutIsUnauthenticatedWithoutTouchingTheNetwork) {
  EXPECT_THAT(session_.Status(), StatusIs(absl::StatusCode::kUnauthenticated, "not signed in"));
  EXPECT_THAT(session_.ListOrgs(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(session_.UseOrg("yourcompany"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(SessionTest, StatusReportsTheRoleInTheActiveOrg) {
  SignIn("test-org");
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->email(), "you@yourcompany.com");
  EXPECT_EQ(status->active_org_slug(), "test-org");
  EXPECT_EQ(status->role(), "member");
  EXPECT_EQ(status->api_url(), kIssuer);
}

TEST_F(SessionTest, StatusWarnsWhenNoLongerAMemberOfTheActiveOrg) {
  SignIn("gone-org");
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->role(), "");
  ASSERT_EQ(status->warnings_size(), 1);
  EXPECT_THAT(status->warnings(0), HasSubstr("no longer a member"));
}

TEST_F(SessionTest, ListOrgsMarksTheActiveOne) {
  SignIn();
  auto orgs = session_.ListOrgs();
  ASSERT_THAT(orgs, IsOk());
  ASSERT_EQ(orgs->memberships_size(), 2);
  EXPECT_TRUE(orgs->memberships(0).active());
  EXPECT_FALSE(orgs->memberships(1).active());
}

TEST_F(SessionTest, UseOrgSavesOnlyForAMember) {
  SignIn();
  auto used = session_.UseOrg("test-org");
  ASSERT_THAT(used, IsOk());
  EXPECT_EQ(used->role(), "member");
  EXPECT_EQ(store_.stored()->active_org_slug(), "test-org");
  EXPECT_EQ(store_.stored()->token(), "dgat_tok");

  std::string before = store_.stored()->SerializeAsString();
  EXPECT_THAT(session_.UseOrg("acme"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("your organizations: yourcompany, test-org")));
  EXPECT_THAT(session_.UseOrg("bad slug"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store_.stored()->SerializeAsString(), before);
}

TEST_F(SessionTest, UseOrgReportsAFailedSaveAndKeepsTheOldState) {
  SignIn();
  store_.set_save_error(absl::InternalError("disk full"));
  EXPECT_THAT(session_.UseOrg("test-org"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(store_.stored()->active_org_slug(), "yourcompany");
}

TEST_F(SessionTest, ReloadsOnlyWhenTheStoreChanged) {
  SignIn();
  ASSERT_THAT(session_.Status(), IsOk());
  ASSERT_THAT(session_.Status(), IsOk());
  EXPECT_EQ(store_.loads(), 1);
  SignIn("test-org");  // behind the agent's back
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->active_org_slug(), "test-org");
  EXPECT_EQ(store_.loads(), 2);
}

TEST_F(SessionTest, CorruptOrUnsafeStoreErrorsPassThrough) {
  store_.set_load_error(absl::DataLossError("moved aside"));
  EXPECT_THAT(session_.Status(), StatusIs(absl::StatusCode::kDataLoss));
  store_.set_load_error(absl::FailedPreconditionError("symlink"));
  EXPECT_THAT(session_.Logout(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SessionTest, LogoutDeletesThenRevokesBothTokens) {
  agent::v1::Credentials c;
  c.set_token("dgat_access");
  c.set_refresh_token("dgrt_refresh");
  store_.Put(c);
  http_.Reply(kRevoke, 200, "");
  auto out = session_.Logout();
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->status(), "logged_out");
  EXPECT_TRUE(out->revoked());
  EXPECT_FALSE(store_.stored().has_value());
  std::vector<std::string> bodies;
  for (const HttpRequest& r : http_.requests()) {
    if (r.url == kRevoke) bodies.push_back(r.body);
  }
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_THAT(bodies[0], HasSubstr("token=dgat_access&token_type_hint=access_token"));
  EXPECT_THAT(bodies[1], HasSubstr("token=dgrt_refresh&token_type_hint=refresh_token"));
}

TEST_F(SessionTest, LogoutWithTheServerDownStillDeletes) {
  SignIn();
  http_.Fail(kRevoke, absl::UnavailableError("could not reach id.example"));
  auto out = session_.Logout();
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->status(), "logged_out");
  EXPECT_FALSE(out->revoked());
  EXPECT_THAT(out->revocation_error(), HasSubstr("could not reach"));
  EXPECT_FALSE(store_.stored().has_value());
  auto again = session_.Logout();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->status(), "no_credential");
}

}  // namespace
}  // namespace datagen
