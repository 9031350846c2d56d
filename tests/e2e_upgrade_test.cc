// Upgrading under a running agent: after the installed binaries are replaced, the next command
// is served by the new binary (the old agent hands over), nothing of the session is lost, and a
// watcher sees the restart event and carries on with the new agent.
#include <signal.h>
#include <stdio.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

class Upgrade : public ::testing::Test {
 protected:
  Upgrade() {
    EXPECT_EQ(RunProcess({"/bin/mkdir", "-p", bin_}, {}).exit_code, 0);
    Install();
  }
  // Installs the binaries as an upgrade would: new files renamed over the old ones.
  void Install() {
    for (const std::string& binary :
         {E2eEnv::DatagenBinary(), E2eEnv::AgentBinary(), E2eEnv::AgentBinary() + "-http"}) {
      std::string name = binary.substr(binary.rfind('/') + 1);
      ASSERT_EQ(RunProcess({"/bin/cp", binary, bin_ + "/" + name + ".new"}, {}).exit_code, 0);
      ASSERT_EQ(rename((bin_ + "/" + name + ".new").c_str(), (bin_ + "/" + name).c_str()), 0);
    }
  }
  RunResult Datagen(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin_ + "/datagen"};
    argv.insert(argv.end(), args.begin(), args.end());
    return env_.RunCommand(argv);
  }

  E2eEnv env_;
  std::string bin_ = env_.dir() + "/installed";
};

TEST_F(Upgrade, TheNextCommandRunsOnTheNewBinaryAndAWatcherCarriesOn) {
  env_.WriteCredentials(env_.MintToken());
  ASSERT_EQ(Datagen({"auth", "status"}).exit_code, 0);
  pid_t old_agent = env_.AgentPid();
  ASSERT_GT(old_agent, 0);
  Child watcher({bin_ + "/datagen", "auth", "status", "--watch"}, env_.Env(),
                env_.dir() + "/watch.out", env_.dir() + "/watch.err");
  // A plugin's watcher too (the Node.js client), which reconnects on its own.
  Child plugin({"/usr/bin/node", Runfile("tools/node-client/cli.js"), "watch"}, env_.Env(),
               env_.dir() + "/node.out", env_.dir() + "/node.err");
  ASSERT_TRUE(WaitUntil([&] {
    return ReadFile(env_.dir() + "/node.out").find("SESSION_CHANGE_INITIAL") != std::string::npos;
  })) << ReadFile(env_.dir() + "/node.err");
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadFile(env_.dir() + "/watch.out").find("initial") != std::string::npos; }));
  std::string credentials = ReadFile(env_.credentials_path());

  Install();  // the upgrade
  RunResult status = Datagen({"auth", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err << env_.AgentLog();
  EXPECT_THAT(status.out, HasSubstr("email: you@yourcompany.com"));
  pid_t new_agent = env_.AgentPid();
  EXPECT_NE(new_agent, old_agent) << "served by a new agent";
  EXPECT_EQ(ReadFile(env_.credentials_path()), credentials) << "nothing lost";
  EXPECT_THAT(env_.AgentLog(), HasSubstr("handing over to the installed datagen-agent"));

  // The watcher saw the restart, reconnected, and follows the new agent.
  EXPECT_TRUE(WaitUntil([&] {
    std::string out = ReadFile(env_.dir() + "/watch.out");
    size_t restart = out.find("change=agent_restarting");
    return restart != std::string::npos &&
           out.find("change=agent_replaced", restart) != std::string::npos;
  })) << ReadFile(env_.dir() + "/watch.out")
      << ReadFile(env_.dir() + "/watch.err");
  EXPECT_TRUE(WaitUntil([&] {
    std::string out = ReadFile(env_.dir() + "/node.out");
    size_t restart = out.find("SESSION_CHANGE_AGENT_RESTARTING");
    return restart != std::string::npos &&
           out.find("SESSION_CHANGE_AGENT_REPLACED", restart) != std::string::npos;
  })) << ReadFile(env_.dir() + "/node.out")
      << ReadFile(env_.dir() + "/node.err");
  ASSERT_EQ(Datagen({"auth", "logout"}).exit_code, 0);
  EXPECT_TRUE(WaitUntil([&] {
    return ReadFile(env_.dir() + "/watch.out").find("change=signed_out") != std::string::npos;
  })) << ReadFile(env_.dir() + "/watch.out");
  EXPECT_TRUE(watcher.running()) << ReadFile(env_.dir() + "/watch.err");
  EXPECT_TRUE(WaitUntil([&] {
    return ReadFile(env_.dir() + "/node.out").find("SESSION_CHANGE_SIGNED_OUT") !=
           std::string::npos;
  })) << ReadFile(env_.dir() + "/node.out");
  plugin.Signal(SIGTERM);
  plugin.Wait();
  watcher.Signal(SIGINT);
  watcher.Wait();

  // With nothing replaced, no hand-over: the same agent answers again.
  ASSERT_EQ(Datagen({"auth", "status"}).exit_code, 4);
  EXPECT_EQ(env_.AgentPid(), new_agent);
}

TEST_F(Upgrade, ALoginAfterAnUpgradeRunsOnTheNewBinary) {
  // A stream (login, watch) hands over before it starts, as a call does: the device flow never
  // starts on the old agent, whose helper may be gone with the old install.
  ASSERT_EQ(Datagen({"auth", "status"}).exit_code, 4);
  pid_t old_agent = env_.AgentPid();
  ASSERT_GT(old_agent, 0);
  Install();
  ASSERT_EQ(env_.AdminPost("/_admin/config", "auto_approve_after=0"), 200);
  RunResult login = Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(login.exit_code, 0) << login.err << env_.AgentLog();
  EXPECT_THAT(login.out, HasSubstr("status: authenticated"));
  EXPECT_NE(env_.AgentPid(), old_agent) << "the login ran on the new agent";
  EXPECT_THAT(env_.AgentLog(), HasSubstr("handing over to the installed datagen-agent"));
}

TEST_F(Upgrade, ALoginInProgressKeepsTheOldAgentUntilItEnds) {
  Child login({bin_ + "/datagen", "auth", "login", "--no-browser"}, env_.Env(),
              env_.dir() + "/login.out", env_.dir() + "/login.err");
  ASSERT_TRUE(WaitUntil(
      [&] { return ReadFile(env_.dir() + "/login.out").find("User code:") != std::string::npos; }));
  pid_t old_agent = env_.AgentPid();
  Install();
  RunResult status = Datagen({"auth", "status"});
  EXPECT_EQ(status.exit_code, 4) << status.err;
  EXPECT_EQ(env_.AgentPid(), old_agent) << "a waiting login keeps its agent";
  ASSERT_EQ(env_.AdminPost("/_admin/approve", "user_code=" + env_.AwaitGrant()), 200);
  EXPECT_EQ(login.Wait(absl::Seconds(20)), 0) << ReadFile(env_.dir() + "/login.err");
  // Once the login ended, the old agent left; the next command runs on the new binary.
  EXPECT_TRUE(WaitUntil([&] {
    return env_.AgentLog().find("datagen-agent stopped") != std::string::npos;
  })) << env_.AgentLog();
  RunResult after = Datagen({"auth", "status"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(env_.AgentPid(), old_agent);
}

}  // namespace
}  // namespace datagen::testing
