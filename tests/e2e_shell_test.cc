// End to end: the prompt state file the agent publishes (docs/api.md "Prompt state file") and
// the prompt segment that reads it (tools/shell/datagen-prompt.sh), in bash and zsh.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/common/paths.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PromptSegment : public ::testing::TestWithParam<std::string> {
 protected:
  // Runs the segment as a prompt would (datagen_prompt_update, then the variable) in a fresh
  // shell; returns "<segment>".
  RunResult Segment(E2eEnv& env, std::vector<std::string> extra_env = {}) {
    std::string script = ". " + Runfile("tools/shell/datagen-prompt.sh") +
                         "; datagen_prompt_update; printf '<%s>' \"$DATAGEN_PROMPT_ORG\"";
    extra_env.push_back("PATH=/usr/bin:/bin");
    return env.RunCommand({GetParam(), "-c", script}, extra_env);
  }
  std::string prompt_file(E2eEnv& env) { return env.socket_dir() + "/prompt"; }
};

TEST_P(PromptSegment, ShowsTheActiveOrgOnlyWhileTheAgentSaysSignedIn) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  EXPECT_EQ(Segment(env).out, "<>") << "no agent: an empty segment, and none is started";
  EXPECT_EQ(env.AgentPid(), -1);

  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  RunResult r = Segment(env);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "<[yourcompany] >");

  // The file: 0600, one line, the agent's pid, never a token.
  struct stat st;
  ASSERT_EQ(stat(prompt_file(env).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::string content = ReadFile(prompt_file(env));
  EXPECT_EQ(content, absl::StrCat("datagen-prompt 1 ", env.AgentPid(), " signed_in yourcompany\n"));
  EXPECT_THAT(content, Not(HasSubstr(token)));

  // Every change is in the file before the command that made it returns.
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  EXPECT_EQ(Segment(env).out, "<[test-org] >");
  ASSERT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);
  EXPECT_EQ(Segment(env).out, "<>");
  EXPECT_EQ(ReadFile(prompt_file(env)),
            absl::StrCat("datagen-prompt 1 ", env.AgentPid(), " signed_out \n"));

  // A hand edit of the credentials reaches the file through the agent's file watcher.
  env.WriteCredentials(env.MintToken(), "test-org");
  std::string want = absl::StrCat("datagen-prompt 1 ", env.AgentPid(), " signed_in test-org\n");
  EXPECT_TRUE(WaitUntil([&] { return ReadFile(prompt_file(env)) == want; }, absl::Seconds(5)))
      << ReadFile(prompt_file(env));
  EXPECT_EQ(Segment(env).out, "<[test-org] >");

  // A clean stop removes the file.
  ASSERT_TRUE(env.StopAgent());
  EXPECT_NE(access(prompt_file(env).c_str(), F_OK), 0);
  EXPECT_EQ(Segment(env).out, "<>");
}

// Issue "Several identities at once": the segment shows this shell's profile and organization
// (DATAGEN_PROFILE, DATAGEN_ORG), read from the one file, still without a process.
TEST_P(PromptSegment, ShowsThisShellsProfileAndOrganization) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  RunResult login = env.Datagen({"auth", "login", "--no-browser", "--profile", "home"});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_EQ(ReadFile(prompt_file(env)),
            absl::StrCat("datagen-prompt 1 ", env.AgentPid(),
                         " signed_in yourcompany\nprofile home signed_in yourcompany\n"));
  EXPECT_EQ(Segment(env).out, "<[yourcompany] >");
  EXPECT_EQ(Segment(env, {"DATAGEN_PROFILE=home"}).out, "<[home:yourcompany] >");
  EXPECT_EQ(Segment(env, {"DATAGEN_PROFILE=home", "DATAGEN_ORG=test-org"}).out,
            "<[home:test-org] >");
  EXPECT_EQ(Segment(env, {"DATAGEN_ORG=test-org"}).out, "<[test-org] >");
  EXPECT_EQ(Segment(env, {"DATAGEN_PROFILE=nobody"}).out, "<>");
  ASSERT_EQ(env.Datagen({"auth", "logout", "--profile", "home"}).exit_code, 0);
  EXPECT_EQ(Segment(env, {"DATAGEN_PROFILE=home"}).out, "<>");
  EXPECT_EQ(Segment(env).out, "<[yourcompany] >") << "the other profile is untouched";
}

TEST_P(PromptSegment, ShowsNothingForAFileLeftByAnAgentKilledWithSigkill) {
  E2eEnv env;
  env.SignedIn();
  ASSERT_EQ(Segment(env).out, "<[yourcompany] >");
  pid_t pid = env.AgentPid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return kill(pid, 0) != 0; }, absl::Seconds(10)));
  EXPECT_THAT(ReadFile(prompt_file(env)), HasSubstr(" signed_in yourcompany"))
      << "the file is still there: the pid is what tells it is stale";
  EXPECT_EQ(Segment(env).out, "<>");
}

TEST_P(PromptSegment, ExpiredSessionShowsNothing) {
  E2eEnv env;
  std::string token = env.SignedIn();
  ASSERT_EQ(env.AdminPost("/_admin/revoke", "token=" + token), 200);
  EXPECT_EQ(env.Datagen({"auth", "status", "--verify"}).exit_code, 4);
  EXPECT_THAT(ReadFile(prompt_file(env)), HasSubstr(" expired yourcompany\n"));
  EXPECT_EQ(Segment(env).out, "<>");
}

// README's set-up lines, as written, give a prompt that shows the org: bash through
// PROMPT_COMMAND and PS1 (expanded as bash expands a prompt), zsh through precmd_functions and
// PROMPT with PROMPT_SUBST.
TEST_P(PromptSegment, TheReadmeSetUpLinesWork) {
  E2eEnv env;
  env.SignedIn();
  std::string source = ". " + Runfile("tools/shell/datagen-prompt.sh") + "\n";
  std::string script =
      GetParam() == "/bin/bash"
          ? source +
                "PS1='$ '\n"
                "PROMPT_COMMAND=\"datagen_prompt_update${PROMPT_COMMAND:+; $PROMPT_COMMAND}\"\n"
                "PS1='${DATAGEN_PROMPT_ORG}'\"$PS1\"\n"
                "eval \"$PROMPT_COMMAND\"; printf '<%s>' \"${PS1@P}\""
          : source +
                "PROMPT='%% '\n"
                "precmd_functions+=(datagen_prompt_update); setopt PROMPT_SUBST\n"
                "PROMPT='${DATAGEN_PROMPT_ORG}'\"$PROMPT\"\n"
                "for f in $precmd_functions; do $f; done; printf '<%s>' \"$(print -P -- $PROMPT)\"";
  RunResult r = env.RunCommand({GetParam(), "-c", script}, {"PATH=/usr/bin:/bin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, GetParam() == "/bin/bash" ? "<[yourcompany] $ >" : "<[yourcompany] % >")
      << r.err;
}

// The segment starts no process: strace sees no clone, fork or exec after the shell's own.
TEST_P(PromptSegment, StartsNoProcess) {
  E2eEnv env;
  env.SignedIn();
  std::string trace = env.dir() + "/strace.txt";
  std::string script = ". " + Runfile("tools/shell/datagen-prompt.sh") +
                       "; datagen_prompt_update; datagen_prompt_update; datagen_prompt_update";
  RunResult r = env.RunCommand({"/usr/bin/strace", "-f", "-qq", "-e", "trace=process", "-o", trace,
                                GetParam(), "-c", script},
                               {"PATH=/usr/bin:/bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string calls = ReadFile(trace);
  EXPECT_THAT(calls, Not(HasSubstr("clone"))) << calls;
  EXPECT_THAT(calls, Not(HasSubstr("fork"))) << calls;
  EXPECT_EQ(calls.find("execve"), calls.rfind("execve")) << "only the shell's own exec:\n" << calls;
}

INSTANTIATE_TEST_SUITE_P(Shells, PromptSegment, ::testing::Values("/bin/bash", "/usr/bin/zsh"),
                         [](const auto& info) {
                           return info.param.substr(info.param.rfind('/') + 1);
                         });

}  // namespace
}  // namespace datagen::testing
