#include "agent/oauth/identity_client.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/identity_server.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using testing::FakeHttpTransport;
using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::Not;
using testing::StatusIs;

using testing::kIssuer;
constexpr const char* kUserinfo = testing::kUserinfoEndpoint;
constexpr const char* kRevoke = testing::kRevokeEndpoint;

class IdentityClientTest : public ::testing::Test {
 protected:
  FakeHttpTransport http_;
  Discovery discovery_{http_, kIssuer};
  IdentityClient client_{http_, discovery_, "datagen-cli"};
};

TEST_F(IdentityClientTest, ReadsUserInfoWithTheBearerToken) {
  http_.Reply(kUserinfo, 200, R"({"sub":"u1","email":"you@yourcompany.com","memberships":[
      {"slug":"yourcompany","role":"admin","default":true},{"slug":"test-org","role":"member"}]})");
  auto info = client_.FetchUserInfo("dgat_abc");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->email(), "you@yourcompany.com");
  ASSERT_EQ(info->memberships_size(), 2);
  EXPECT_EQ(info->memberships(1).role(), "member");
  const HttpRequest sent = http_.requests().back();
  EXPECT_EQ(sent.method, "GET");
  EXPECT_THAT(sent.headers, ::testing::Contains(std::make_pair(std::string("Authorization"),
                                                               std::string("Bearer dgat_abc"))));
}

TEST_F(IdentityClientTest, MembershipsMayBeAbsentAndMalformedOnesAreDropped) {
  http_.Reply(kUserinfo, 200, R"({"email":"a@b.c"})");
  http_.Reply(kUserinfo, 200, R"({"email":"a@b.c","memberships":[{"slug":"../x","role":"a"},
      {"slug":"ok","role":"viewer"},{"slug":"","role":"b"}]})");
  auto info = client_.FetchUserInfo("t");
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->memberships_size(), 0);
  info = client_.FetchUserInfo("t");
  ASSERT_THAT(info, IsOk());
  ASSERT_EQ(info->memberships_size(), 1);
  EXPECT_EQ(info->memberships(0).slug(), "ok");
}

absl::Status UserInfoStatusFor(int status, const std::string& body) {
  FakeHttpTransport http;
  http.Reply(kUserinfo, status, body);
  Discovery discovery(http, kIssuer);
  return IdentityClient(http, discovery, "datagen-cli").FetchUserInfo("t").status();
}

TEST(IdentityClient, MapsServerAnswersToCanonicalCodes) {
  EXPECT_THAT(UserInfoStatusFor(401, R"({"error":"invalid_token"})"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(UserInfoStatusFor(403, ""), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(UserInfoStatusFor(503, "busy"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(UserInfoStatusFor(429, ""), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(UserInfoStatusFor(200, "<html>"),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("not valid JSON")));
  EXPECT_THAT(UserInfoStatusFor(200, R"({"sub":"no email"})"),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("no usable email")));
  EXPECT_THAT(
      UserInfoStatusFor(404, R"({"error":"not_found","error_description":"\u001b[31mred"})"),
      StatusIs(absl::StatusCode::kUnknown, HasSubstr("not_found: \\x1b[31mred")));
}

TEST_F(IdentityClientTest, UnreachableServerIsUnavailableAndForcesRediscovery) {
  http_.Fail(kUserinfo, absl::UnavailableError("could not reach id.example"));
  http_.Reply(kUserinfo, 200, R"({"email":"a@b.c"})");
  EXPECT_THAT(client_.FetchUserInfo("dgat_secret"),
              StatusIs(absl::StatusCode::kUnavailable, Not(HasSubstr("dgat_secret"))));
  int discovery_before = http_.CountTo("https://id.example/.well-known/openid-configuration");
  ASSERT_THAT(client_.FetchUserInfo("t"), IsOk());
  EXPECT_EQ(http_.CountTo("https://id.example/.well-known/openid-configuration"),
            discovery_before + 1);
}

TEST_F(IdentityClientTest, RevokeSendsTheRfc7009Form) {
  http_.Reply(kRevoke, 200, "");
  ASSERT_THAT(client_.Revoke("dgat_a/b", "access_token"), IsOk());
  const HttpRequest sent = http_.requests().back();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.body, "token=dgat_a%2Fb&token_type_hint=access_token&client_id=datagen-cli");
}

TEST_F(IdentityClientTest, RevokeFailuresSayWhy) {
  // Scripted answers are served in order.
  http_.Reply(kRevoke, 503, R"({"error":"temporarily_unavailable"})");
  http_.Reply(kRevoke, 401, R"({"error":"invalid_client"})");
  http_.Fail(kRevoke, absl::UnavailableError("down"));
  EXPECT_THAT(client_.Revoke("t", "access_token"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("temporarily_unavailable")));
  EXPECT_THAT(client_.Revoke("t", "access_token"),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("invalid_client")));
  EXPECT_THAT(client_.Revoke("t", "access_token"), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(IsValidSlug, AcceptsOnlySafeSlugs) {
  for (const char* ok : {"a", "yourcompany", "test-org", "A.b_c-9"}) EXPECT_TRUE(IsValidSlug(ok));
  for (const std::string& bad : {std::string(""), std::string("a b"), std::string("../x"),
                                 std::string("x/y"), std::string(101, 'a'), std::string("é")}) {
    EXPECT_FALSE(IsValidSlug(bad)) << bad;
  }
}

}  // namespace
}  // namespace datagen
