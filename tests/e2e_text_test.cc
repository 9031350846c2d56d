// End to end (issue 14): what users see of server strings. An international user's email and
// role are printed exactly as the server gave them, in text and JSON, and survive a restart of
// the agent (the credentials file holding them is not "corrupt"); a hostile server's control
// characters, escape sequences and bidirectional overrides never reach the terminal raw.
#include "agent/common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/datagen/agent/v1/agent.pb.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

E2eEnv::Options WithUsers(const std::string& users_json) {
  E2eEnv::Options options;
  options.users_json = users_json;
  return options;
}

// No C0 control but newline, no DEL, no C1 control (UTF-8 C2 80..C2 9F), no bidirectional
// override, embedding, isolate or mark, no line separator: nothing that can move the cursor,
// clear the screen, recolour or reorder what the terminal shows.
void ExpectNothingRaw(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    ASSERT_FALSE((c < 0x20 && c != '\n') || c == 0x7f)
        << "raw control byte at " << i << ": " << text;
    if (c == 0xc2 && i + 1 < text.size()) {
      unsigned char next = text[i + 1];
      ASSERT_FALSE(next >= 0x80 && next <= 0x9f) << "raw C1 control: " << text;
    }
    if (c == 0xe2 && i + 2 < text.size()) {
      unsigned char b1 = text[i + 1], b2 = text[i + 2];
      bool bidi = (b1 == 0x80 && (b2 == 0x8e || b2 == 0x8f || (b2 >= 0xaa && b2 <= 0xae) ||
                                  b2 == 0xa8 || b2 == 0xa9)) ||
                  (b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9);
      ASSERT_FALSE(bidi) << "raw bidirectional control: " << text;
    }
  }
}

void LogIn(E2eEnv& env) {
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  RunResult r = env.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

constexpr char kInternational[] = R"({"users": [{"email": "zoë@exämple.de", "sub": "u1",
  "memberships": [{"slug": "yourcompany", "role": "администратор", "default": true},
                  {"slug": "test-org", "role": "member"}]}]})";

TEST(E2eText, AnInternationalUserSeesTheirEmailAndRoleExactly) {
  E2eEnv env(WithUsers(kInternational));
  LogIn(env);
  for (int agent_run = 0; agent_run < 2; ++agent_run) {
    SCOPED_TRACE(agent_run == 0 ? "the agent that logged in" : "a new agent, from the file");
    RunResult r = env.Datagen({"auth", "status"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "email: zoë@exämple.de\nactive_org_slug: yourcompany\nrole: администратор\n");
    EXPECT_THAT(r.err, IsEmpty());
    r = env.Datagen({"auth", "status", "--format", "json"});
    EXPECT_THAT(r.out, HasSubstr("\"email\":\"zoë@exämple.de\""));
    EXPECT_THAT(r.out, HasSubstr("\"role\":\"администратор\""));
    r = env.Datagen({"auth", "org", "--list"});
    EXPECT_EQ(r.out,
              "active_org_slug: yourcompany\nmemberships:\n- yourcompany (администратор, active)\n"
              "- test-org (member)\n");
    r = env.Datagen({"auth", "org", "--list", "--format", "json"});
    EXPECT_THAT(r.out, HasSubstr("{\"slug\":\"yourcompany\",\"role\":\"администратор\""));
    EXPECT_THAT(ReadFile(env.credentials_path()), HasSubstr("zoë@exämple.de"));
    ASSERT_TRUE(env.StopAgent());
  }
  EXPECT_THAT(env.AgentLog(), Not(HasSubstr("corrupt")));
}

// ESC [2J clears the screen; U+202E reverses what follows; ESC ]0; retitles the window; U+009B
// is the one-byte CSI; DEL.
constexpr char kHostile[] = R"({"users": [{
  "email": "ev\u001b[2Jil\u202e@x.example", "sub": "u1",
  "memberships": [{"slug": "yourcompany", "role": "\u001b]0;pwned\u0007ro\u009ble\u202e\u007f",
                   "default": true}]}]})";

TEST(E2eText, AHostileServerCannotDriveTheTerminal) {
  E2eEnv env(WithUsers(kHostile));
  LogIn(env);
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectNothingRaw(r.out);
  ExpectNothingRaw(r.err);
  // Shown, escaped visibly, nothing lost.
  EXPECT_EQ(r.out,
            "email: ev\\x1b[2Jil\\u202e@x.example\nactive_org_slug: yourcompany\n"
            "role: \\x1b]0;pwned\\x07ro\\u009ble\\u202e\\x7f\n");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"auth", "status", "--format", "json"},
                                             {"auth", "org", "--list"},
                                             {"auth", "org", "--list", "--format", "json"},
                                             {"auth", "org", "--use", "yourcompany"}}) {
    r = env.Datagen(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ExpectNothingRaw(r.out);
    ExpectNothingRaw(r.err);
  }
  // JSON stays valid JSON and means exactly what the server sent.
  r = env.Datagen({"auth", "status", "--format", "json"});
  agent::v1::GetStatusResponse parsed;
  ASSERT_TRUE(ParseJson(r.out, "status", &parsed).ok()) << r.out;
  EXPECT_EQ(parsed.email(), "ev\x1b[2Jil\u202e@x.example");
  EXPECT_EQ(parsed.role(), "\x1b]0;pwned\aro\u009ble\u202e\x7f");
  // A watcher's lines too.
  Child watch = env.StartDatagen({"auth", "status", "--watch"}, "watch");
  ASSERT_TRUE(env.AwaitOutput("watch", "state=signed_in"));
  ExpectNothingRaw(env.Output("watch"));
  // And the agent's log.
  ExpectNothingRaw(env.AgentLog());
}

}  // namespace
}  // namespace datagen::testing
