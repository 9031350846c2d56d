// `datagen auth doctor` names the broken thing, with its fix, in each way a user's setup breaks:
// agent down, an unsafe socket folder, a loose credentials mode, the server unreachable, a
// DATAGEN_API_URL with no discovery, a server clock 10 minutes off. Exit 0 only when all is
// well; never a token in its output (E2eEnv checks every output for minted tokens).
#include <sys/stat.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(E2eDoctor, AllWellExits0AndShowsEveryCheck) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* check : {"socket", "files", "agent", "discovery", "clock", "credentials",
                            "revocations", "proxy", "systemd"}) {
    EXPECT_THAT(r.out, ContainsRegex(std::string("ok +") + check)) << check << "\n" << r.out;
  }
  EXPECT_THAT(r.out, HasSubstr("signed in as you@yourcompany.com"));
  RunResult json = env.Datagen({"auth", "doctor", "--format", "json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out, HasSubstr("\"verdict\":\"VERDICT_OK\""));
}

// No agent running is the normal state after boot: doctor starts it as any command does (its
// server, clock and revocation checks run there) and calls that fine (issue 21, finding 8).
TEST(E2eDoctor, NoAgentRunningIsFineDoctorStartsItAndRunsEveryCheck) {
  E2eEnv env;
  ASSERT_EQ(env.AgentPid(), -1);
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("ok +agent +datagen-agent .* \\(it was not running: it starts "
                                   "on demand, and started for these checks\\)"));
  for (const char* check : {"discovery", "clock", "credentials", "revocations", "proxy"}) {
    EXPECT_THAT(r.out, ContainsRegex(std::string("ok +") + check)) << check << "\n" << r.out;
  }
  EXPECT_GT(env.AgentPid(), 0);
}

// An agent that cannot start is named, with where to read why.
TEST(E2eDoctor, AnAgentThatCannotStartIsNamed) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "doctor"}, {"HOME=", "XDG_CONFIG_HOME="});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("FAIL +agent +not running, and it could not be started"));
  EXPECT_THAT(r.out, HasSubstr("fix: see " + env.socket_dir() + "/agent.log"));
}

TEST(E2eDoctor, AnUnsafeSocketFolderIsNamed) {
  E2eEnv env;
  std::string folder = env.dir() + "/shared";
  mkdir(folder.c_str(), 0777);
  chmod(folder.c_str(), 0777);
  ASSERT_EQ(chown(folder.c_str(), 65534, 65534), 0);
  RunResult r = env.Datagen({"auth", "doctor"}, {"DATAGEN_AGENT_SOCKET=" + folder + "/agent.sock"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("FAIL +socket"));
  EXPECT_THAT(r.out, HasSubstr(folder));
  EXPECT_THAT(r.out, HasSubstr("fix: set XDG_RUNTIME_DIR or DATAGEN_AGENT_SOCKET"));
}

// Issue 22, bug 3: a 0755 socket folder of one's own was "ok" in doctor while every other
// command refused it (the agent will not serve a folder others can look into).
TEST(E2eDoctor, ASocketFolderOthersCanLookIntoIsNamedAsTheOtherCommandsRefuseIt) {
  E2eEnv env;
  std::string folder = env.dir() + "/open";
  ASSERT_EQ(mkdir(folder.c_str(), 0755), 0);
  chmod(folder.c_str(), 0755);
  std::vector<std::string> at = {"DATAGEN_AGENT_SOCKET=" + folder + "/agent.sock"};
  RunResult status = env.Datagen({"auth", "status"}, at);
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("open to other users (mode 0755)"));
  RunResult r = env.Datagen({"auth", "doctor"}, at);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("FAIL +socket +.*/open is open to other users \\(mode 0755\\)"));
  EXPECT_THAT(r.out, HasSubstr("fix: chmod 700 " + folder));
}

TEST(E2eDoctor, ALooseCredentialsModeIsNamedNotRepaired) {
  // (A running agent tightens a loose mode as soon as it reads the file: doctor names it before,
  // and, with --no-autostart, starts nothing that could.)
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(chmod(env.credentials_path().c_str(), 0644), 0);
  RunResult r = env.Datagen({"auth", "doctor", "--no-autostart"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("FAIL +files"));
  EXPECT_THAT(r.out, HasSubstr("mode 0644"));
  EXPECT_THAT(r.out, HasSubstr("fix: chmod 600 " + env.credentials_path()));
  struct stat st;
  ASSERT_EQ(stat(env.credentials_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "doctor looks; it repairs nothing";
}

TEST(E2eDoctor, AnUnreachableServerIsNamed) {
  E2eEnv env(WithDiscovery(""));  // DATAGEN_API_URL: a closed loopback port
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);  // starts the agent
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("FAIL +discovery +cannot reach http://127.0.0.1:"));
  EXPECT_THAT(r.out, HasSubstr("fix: check DATAGEN_API_URL"));
}

// Issue 22, bug 2: a server without discovery metadata works through the default paths (login,
// status and org do); doctor says so instead of failing it.
TEST(E2eDoctor, AServerWithoutDiscoveryButWithTheDefaultPathsIsFine) {
  E2eEnv env(WithDiscovery("none"));
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("ok +discovery +no discovery document \\(HTTP 404\\): the "
                                   "default endpoints are used, and http://127.0.0.1:[0-9]+/oauth/"
                                   "token answers as an OAuth token endpoint"));
  EXPECT_THAT(r.out, ContainsRegex("ok +clock"));
}

// A URL that is no identity server at all (nothing at discovery, nothing at the default paths).
TEST(E2eDoctor, AUrlThatIsNoIdentityServerIsNamed) {
  E2eEnv env(WithDiscovery("none"));
  const std::string nowhere = env.api_url() + "/not-an-issuer";
  RunResult r = env.Datagen({"auth", "doctor"}, {"DATAGEN_API_URL=" + nowhere});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("FAIL +discovery .*/not-an-issuer has no discovery document "
                                   "\\(HTTP 404\\), and its default token endpoint .* answered "
                                   "HTTP 404, not as an OAuth server"));
  EXPECT_THAT(r.out, HasSubstr("it must be the identity server's issuer URL"));
}

TEST(E2eDoctor, AServerClockTenMinutesOffIsNamed) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config", "clock_offset=600"), 200);
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
  RunResult r = env.Datagen({"auth", "doctor"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, ContainsRegex("warn +clock +the server's clock is (9m5[0-9]s|10m[0-9]?s?) "
                                   "ahead of this machine's"));
  EXPECT_THAT(r.out, HasSubstr("fix: set this machine's clock"));
  EXPECT_THAT(r.out, ContainsRegex("ok +discovery"));
}

}  // namespace
}  // namespace datagen::testing
