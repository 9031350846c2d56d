// End to end: the prompt snippet (tools/shell/datagen-prompt.sh) in bash and zsh.
#include "agent/common/paths.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

class PromptSnippet : public ::testing::TestWithParam<std::string> {
 protected:
  RunResult Segment(E2eEnv& env) {
    std::string script = ". " + Runfile("tools/shell/datagen-prompt.sh") +
                         "; printf '<%s>' \"$(datagen_prompt_org)\"";
    return env.RunCommand({GetParam(), "-c", script},
                          {"PATH=" + Dirname(E2eEnv::DatagenBinary()) + ":" +
                           Dirname(E2eEnv::AgentBinary()) + ":/usr/bin:/bin"});
  }
};

TEST_P(PromptSnippet, ShowsTheActiveOrgOnlyWhenSignedInAndNeverStartsAnAgent) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  RunResult r = Segment(env);
  EXPECT_EQ(r.out, "<>") << "no agent: an empty segment, and none is started";
  EXPECT_EQ(env.AgentPid(), -1);
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  r = Segment(env);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "<[yourcompany] >");
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  EXPECT_EQ(Segment(env).out, "<[test-org] >");
  ASSERT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);
  EXPECT_EQ(Segment(env).out, "<>");
}

INSTANTIATE_TEST_SUITE_P(Shells, PromptSnippet, ::testing::Values("/bin/bash", "/usr/bin/zsh"),
                         [](const auto& info) {
                           return info.param.substr(info.param.rfind('/') + 1);
                         });

}  // namespace
}  // namespace datagen::testing
