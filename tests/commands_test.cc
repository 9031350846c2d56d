// Each `datagen auth` command in process: parsed, run through the CLI's AgentClient against the
// agent's own wiring over fakes (AgentHarness), rendered; exit code, stdout and stderr checked.
#include "client/commands.h"

#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/agent_harness.h"

namespace datagen::cli {
namespace {

using testing::AgentHarness;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct Ran {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Drain(FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  std::fclose(file);
  return text;
}

class CommandsTest : public ::testing::Test {
 protected:
  CommandsTest() {
    harness_.gate().Open();
    harness_.http().Reply(datagen::testing::kUserinfoEndpoint, 200, datagen::testing::kYou);
  }

  Ran Run(const std::vector<std::string>& args) {
    Output io{std::tmpfile(), std::tmpfile()};
    Ran ran;
    ParseResult parsed = ParseArgs(args);
    if (!parsed.ok) {
      ran.exit_code = ReportUsageError(parsed.error, io);
    } else {
      std::unique_ptr<AgentClient> client = harness_.NewClient();
      ran.exit_code =
          RunCommand(parsed.invocation, *client, io,
                     [](absl::string_view) -> std::optional<std::string> { return std::nullopt; });
    }
    ran.out = Drain(io.out);
    ran.err = Drain(io.err);
    return ran;
  }

  AgentHarness harness_;
};

TEST_F(CommandsTest, StatusSignedOutExits4AndSaysWhatToDo) {
  Ran r = Run({"auth", "status"});
  EXPECT_EQ(r.exit_code, kExitSignedOut);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_EQ(r.err, "error: not signed in\nrun: datagen auth login\n");
}

TEST_F(CommandsTest, StatusSignedInInTextAndJson) {
  harness_.SignIn("dgat_tok", "test-org");
  Ran text = Run({"auth", "status"});
  EXPECT_EQ(text.exit_code, kExitOk) << text.err;
  EXPECT_THAT(text.out, HasSubstr("you@yourcompany.com"));
  EXPECT_THAT(text.out, HasSubstr("test-org"));
  Ran json = Run({"auth", "status", "--format", "json"});
  EXPECT_EQ(json.exit_code, kExitOk);
  EXPECT_THAT(json.out, StartsWith("{"));
  EXPECT_THAT(json.out, HasSubstr("\"role\":\"member\""));
}

TEST_F(CommandsTest, OrgListMarksTheActiveOneAndOrgUseSwitches) {
  harness_.SignIn("dgat_tok", "yourcompany");
  Ran list = Run({"auth", "org", "--list"});
  EXPECT_EQ(list.exit_code, kExitOk) << list.err;
  EXPECT_THAT(list.out, HasSubstr("yourcompany"));
  EXPECT_THAT(list.out, HasSubstr("test-org"));
  Ran use = Run({"auth", "org", "--use", "test-org"});
  EXPECT_EQ(use.exit_code, kExitOk) << use.err;
  EXPECT_EQ(harness_.store().stored()->active_org_slug(), "test-org");
  Ran not_member = Run({"auth", "org", "--use", "elsewhere"});
  EXPECT_EQ(not_member.exit_code, kExitError);
  EXPECT_THAT(not_member.err, HasSubstr("you are not a member of organization elsewhere"));
  EXPECT_THAT(not_member.err, HasSubstr("run: datagen auth org --list"));
}

TEST_F(CommandsTest, LogoutWarnsWhenTheServerDidNotRevoke) {
  harness_.SignIn();
  harness_.http().Fail(datagen::testing::kRevokeEndpoint, absl::UnavailableError("down"));
  Ran r = Run({"auth", "logout"});
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_THAT(r.err, HasSubstr("warning: the local credentials were deleted, but the token was "
                               "NOT revoked on the server"));
  EXPECT_FALSE(harness_.store().stored().has_value());
}

TEST_F(CommandsTest, TokenPrintsOnlyTheToken) {
  harness_.SignIn("dgat_the_token");
  Ran r = Run({"auth", "token"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "dgat_the_token\n");
  EXPECT_THAT(r.err, IsEmpty());
}

TEST_F(CommandsTest, AUsageErrorExits2AndRendersJsonWhenAsked) {
  Ran r = Run({"auth", "org", "--format", "json"});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("usage: datagen auth org"));
  EXPECT_THAT(r.out, HasSubstr("\"code\":\"usage\""));
}

}  // namespace
}  // namespace datagen::cli
