#include "agent/oauth/discovery.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/identity_server.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::testing::AllOf;
using testing::FakeHttpTransport;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;

using testing::kIssuer;
constexpr char kOidc[] = "https://id.example/.well-known/openid-configuration";
constexpr char kRfc8414[] = "https://id.example/.well-known/oauth-authorization-server";

TEST(Discovery, ReadsOpenIdConfiguration) {
  FakeHttpTransport http;
  http.Reply(kOidc, 200, R"({"issuer":"https://id.example",
      "device_authorization_endpoint":"https://id.example/device",
      "token_endpoint":"https://id.example/token",
      "revocation_endpoint":"https://id.example/revoke",
      "userinfo_endpoint":"https://id.example/userinfo",
      "jwks_uri":"https://id.example/jwks"})");
  Discovery discovery(http, std::string(kIssuer) + "/");
  auto e = discovery.Get();
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->device_authorization, "https://id.example/device");
  EXPECT_EQ(e->token, "https://id.example/token");
  EXPECT_EQ(e->revocation, "https://id.example/revoke");
  EXPECT_EQ(e->userinfo, "https://id.example/userinfo");
  EXPECT_EQ(e->source, "openid-configuration");
  ASSERT_THAT(discovery.Get(), IsOk());
  EXPECT_EQ(http.requests().size(), 1u) << "cached after the first fetch";
  discovery.Invalidate();
  ASSERT_THAT(discovery.Get(), IsOk());
  EXPECT_EQ(http.requests().size(), 2u);
}

TEST(Discovery, FallsBackToRfc8414ThenToDefaultPaths) {
  FakeHttpTransport http;
  http.Reply(kRfc8414, 200,
             R"({"issuer":"https://id.example","token_endpoint":"https://id.example/t"})");
  Discovery discovery(http, kIssuer);
  auto e = discovery.Get();
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->token, "https://id.example/t");
  EXPECT_EQ(e->userinfo, "https://id.example/v1/me") << "missing entries keep the default";
  EXPECT_EQ(e->source, "oauth-authorization-server");

  FakeHttpTransport none;
  Discovery defaults(none, kIssuer);
  auto d = defaults.Get();
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->device_authorization, "https://id.example/oauth/device/code");
  EXPECT_EQ(d->token, "https://id.example/oauth/token");
  EXPECT_EQ(d->revocation, "https://id.example/oauth/revoke");
  EXPECT_EQ(d->userinfo, "https://id.example/v1/me");
  EXPECT_EQ(d->source, "defaults");
  EXPECT_EQ(none.requests().size(), 2u);
}

TEST(Discovery, ServerTroubleIsRetryableAndNotCached) {
  FakeHttpTransport http;
  http.Fail(kOidc, absl::UnavailableError("connection refused"));
  http.Reply(kOidc, 500, "oops");
  http.Reply(kOidc, 200,
             R"({"issuer":"https://id.example","userinfo_endpoint":"https://id.example/u"})");
  Discovery discovery(http, kIssuer);
  EXPECT_THAT(discovery.Get(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(discovery.Get(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 500")));
  EXPECT_THAT(discovery.Get(), IsOk());
}

TEST(Discovery, RefusesUnsafeUrls) {
  FakeHttpTransport http;
  Discovery insecure(http, "http://id.example");
  EXPECT_THAT(insecure.Get(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DATAGEN_API_URL")));
  EXPECT_TRUE(http.requests().empty()) << "nothing is sent to a refused URL";

  http.Reply(kOidc, 200,
             R"({"issuer":"https://id.example","userinfo_endpoint":"http://evil.example/u"})");
  Discovery discovery(http, kIssuer);
  EXPECT_THAT(discovery.Get(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unusable endpoint")));
}

// OpenID Connect Discovery 4.3 / RFC 8414 3.3 (issue 21, finding 6): a document that names
// another issuer, or none, describes someone else's endpoints: refused with both values named,
// and nothing is sent to them.
TEST(Discovery, ADocumentForAnotherIssuerIsRefusedAndNothingGoesToItsEndpoints) {
  for (const char* document :
       {R"({"issuer":"https://evil.example","token_endpoint":"https://evil.example/t"})",
        R"({"token_endpoint":"https://id.example/t"})",
        R"({"issuer":"https://id.example/other","token_endpoint":"https://id.example/t"})"}) {
    SCOPED_TRACE(document);
    FakeHttpTransport http;
    http.Reply(kOidc, 200, document);
    Discovery discovery(http, kIssuer);
    absl::StatusOr<Endpoints> endpoints = discovery.Get();
    EXPECT_THAT(endpoints, StatusIs(absl::StatusCode::kFailedPrecondition,
                                    AllOf(HasSubstr("names the issuer"),
                                          HasSubstr("not the configured https://id.example"))));
    ASSERT_EQ(http.requests().size(), 1u) << "only the discovery request itself";
  }
  // The same issuer with a trailing '/' is the same issuer.
  FakeHttpTransport http;
  http.Reply(kOidc, 200,
             R"({"issuer":"https://id.example/","token_endpoint":"https://id.example/t"})");
  Discovery discovery(http, kIssuer);
  EXPECT_THAT(discovery.Get(), IsOk());
}

// A record without an issuer whose agent is configured elsewhere: "" (unknown) sends nothing.
TEST(Discovery, AnUnknownIssuerSendsNothing) {
  FakeHttpTransport http;
  Discovery discovery(http, "");
  EXPECT_THAT(discovery.Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                        HasSubstr("identity server is unknown")));
  EXPECT_TRUE(http.requests().empty());
}

TEST(Discovery, MalformedDocumentIsAnError) {
  FakeHttpTransport http;
  http.Reply(kOidc, 200, R"({"token_endpoint": 42})");
  Discovery discovery(http, kIssuer);
  EXPECT_THAT(discovery.Get(), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace datagen
