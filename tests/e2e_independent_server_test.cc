// End to end against an identity server written independently of the project's fake
// (tests/independent/oidc_server.py, from docs/identity-server.md alone): discovery at an issuer
// with a path, unusual endpoint paths, opaque tokens, extra claims, no "default" membership flag,
// revocation that requires client_id. The credentials file is written by hand.
#include <signal.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

class IndependentServer : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = Child({"/usr/bin/python3", Runfile("tests/independent/oidc_server.py"),
                     env_.dir() + "/port", env_.dir() + "/token"},
                    {}, env_.dir() + "/oidc.out", env_.dir() + "/oidc.err");
    int port = 0;
    WaitUntil(
        [&] {
          return absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(env_.dir() + "/port")),
                                  &port);
        },
        absl::Seconds(20));
    ASSERT_GT(port, 0) << ReadFile(env_.dir() + "/oidc.err");
    issuer_ = absl::StrCat("http://127.0.0.1:", port, "/realms/acme");
    token_ = ReadFile(env_.dir() + "/token");
    env_.AddSecret(token_);
    base_ = absl::StrCat("http://127.0.0.1:", port);
  }

  RunResult Datagen(const std::vector<std::string>& args) {
    return env_.Datagen(args, {"DATAGEN_API_URL=" + issuer_});
  }

  E2eEnv env_{WithDiscovery("")};
  Child server_;
  std::string issuer_, token_, base_;
};

TEST_F(IndependentServer, StatusOrgAndLogoutWithAHandWrittenFile) {
  env_.WriteCredentials(token_, "yourcompany", issuer_);

  RunResult r = Datagen({"auth", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "email: you@yourcompany.com\nactive_org_slug: yourcompany\nrole: admin\n");

  r = Datagen({"auth", "org", "--list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "active_org_slug: yourcompany\nmemberships:\n- yourcompany (admin, active)\n"
            "- test-org (member)\n- viewer-org (viewer)\n");

  r = Datagen({"auth", "org", "--use", "viewer-org"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "email: you@yourcompany.com\nactive_org_slug: viewer-org\nrole: viewer\n");

  r = Datagen({"auth", "org", "--use", "nope"});
  EXPECT_EQ(r.exit_code, 1);

  r = Datagen({"auth", "logout"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "status: logged_out\n");
  EXPECT_EQ(r.err, "") << "revocation must have succeeded (it needs client_id)";
  EXPECT_THAT(env_.AgentLog(), HasSubstr("endpoints from openid-configuration"));

  r = Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 4);
  // The revoked token is rejected by the server even if it were used again.
  env_.WriteCredentials(token_, "yourcompany", issuer_);
  r = Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("expired or was revoked"));
}

TEST_F(IndependentServer, DeviceLoginStatusAndLogout) {
  Child login =
      env_.StartDatagen({"auth", "login", "--no-browser"}, "login", {"DATAGEN_API_URL=" + issuer_});
  ASSERT_TRUE(env_.AwaitOutput("login", "Verify at: "));
  std::string out = env_.Output("login");
  size_t at = out.find("User code: ");
  ASSERT_NE(at, std::string::npos);
  std::string code = out.substr(at + 11, 9);
  EXPECT_THAT(out, HasSubstr("Verify at: " + issuer_ + "/device\n"));
  // Approve as the user would, once the client has polled at least once.
  WaitUntil(
      [&] {
        return ReadFile(env_.dir() + "/oidc.err")
                   .find("POST /realms/acme/protocol/openid-connect/token") != std::string::npos;
      },
      absl::Seconds(20));
  ASSERT_EQ(RunProcess({"/usr/bin/curl", "-sf", "-o", "/dev/null", "-d", "user_code=" + code,
                        base_ + "/_control/approve"},
                       {})
                .exit_code,
            0);
  ASSERT_EQ(login.Wait(absl::Seconds(30)), 0) << env_.Output("login");
  EXPECT_THAT(env_.Output("login"), HasSubstr("status: authenticated\nemail: you@yourcompany.com\n"
                                              "active_org_slug: yourcompany\n"));
  // No interval in the reply: 5 s between polls, never faster (the server counts).
  std::string polls = RunProcess({"/usr/bin/curl", "-sf", base_ + "/_control/polls"}, {}).out;
  EXPECT_THAT(polls, HasSubstr("\"too_fast\": 0"));
  // The first poll 5 s after the code was issued: not sooner, and, on a busy machine (the
  // agent spawns its HTTP helper for each poll), not much later.
  EXPECT_THAT(polls, ::testing::ContainsRegex("\"polls\": \\[5\\.[0-9]"));

  RunResult r = Datagen({"auth", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "email: you@yourcompany.com\nactive_org_slug: yourcompany\nrole: admin\n");
  std::string file = ReadFile(env_.credentials_path());
  EXPECT_THAT(file, HasSubstr("\"token_expires_at\""));
  std::string token = file.substr(file.find("opaque/"));
  token = token.substr(0, token.find('"'));
  env_.AddSecret(token);
  r = Datagen({"auth", "logout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "revocation (with client_id) succeeded";
  EXPECT_THAT(RunProcess({"/usr/bin/curl", "-sfG", "--data-urlencode", "token=" + token,
                          base_ + "/_control/active"},
                         {})
                  .out,
              HasSubstr("false"));
}

}  // namespace
}  // namespace datagen::testing
