#include "agent/http/url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using testing::IsOk;
using testing::StatusIs;

TEST(ParseUrl, SplitsSchemeHostPortPath) {
  auto u = ParseUrl("HTTPS://Api.Example.com:8443/a/b?c=d");
  ASSERT_THAT(u, IsOk());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/a/b?c=d");
  auto v6 = ParseUrl("http://[::1]:80");
  ASSERT_THAT(v6, IsOk());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path, "/");
}

TEST(ParseUrl, RejectsWhatIsNotAnAbsoluteHttpUrl) {
  for (const char* bad : {"", "api.example.com", "ftp://x/", "http://", "http://:80/",
                          "http://x:0/", "http://x:99999/", "http://[::1/", "http://x:ab/"}) {
    EXPECT_THAT(ParseUrl(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(IsLoopbackHost, KnowsLoopbackFromTheRest) {
  for (const char* h : {"localhost", "LOCALHOST", "127.0.0.1", "127.3.2.1", "::1", "a.localhost"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h :
       {"10.0.0.1", "128.0.0.1", "::2", "localhost.example.com", "example.com", "0.0.0.0"}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

TEST(CheckUrlAllowed, HttpsAnywhereHttpOnlyToLoopback) {
  EXPECT_THAT(CheckUrlAllowed("https://api.datagen.example"), IsOk());
  EXPECT_THAT(CheckUrlAllowed("http://127.0.0.1:8080/x"), IsOk());
  EXPECT_THAT(CheckUrlAllowed("http://[::1]:8080/x"), IsOk());
  EXPECT_THAT(CheckUrlAllowed("http://api.datagen.example"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("plain http")));
  EXPECT_THAT(CheckUrlAllowed("https://user:pw@example.com/"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Form, EncodesAndDecodesRoundTrip) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
      {"token", "a+b/c=d&e f%"},
      {"empty", ""}};
  std::string encoded = FormEncode(fields);
  EXPECT_EQ(encoded,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&"
            "token=a%2Bb%2Fc%3Dd%26e%20f%25&empty=");
  EXPECT_EQ(FormDecode(encoded), fields);
  EXPECT_EQ(FormDecode("a=1+2&b=%zz&c"), (std::vector<std::pair<std::string, std::string>>{
                                             {"a", "1 2"}, {"b", "%zz"}, {"c", ""}}));
}

TEST(JoinUrl, PutsExactlyOneSlash) {
  EXPECT_EQ(JoinUrl("http://x/", "/v1/me"), "http://x/v1/me");
  EXPECT_EQ(JoinUrl("http://x", "v1/me"), "http://x/v1/me");
}

}  // namespace
}  // namespace datagen
