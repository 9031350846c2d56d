// End to end: a client in another language. tools/node-client (Node.js, @grpc/grpc-js and
// @grpc/proto-loader loading proto/ as it is) talks to the real agent over its Unix socket.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> NodeClient(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/node", Runfile("tools/node-client/cli.js")};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST(E2eNodeClient, PrintsTheStatusAndFollowsTheWatchStream) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);

  RunResult status = env.RunCommand(NodeClient({"status"}));
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out,
            "{\"email\":\"you@yourcompany.com\",\"active_org_slug\":\"yourcompany\","
            "\"role\":\"admin\"}\n");

  Child watch(NodeClient({"watch", "2"}), env.Env(), env.dir() + "/watch.out",
              env.dir() + "/watch.err");
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_INITIAL"));
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  EXPECT_EQ(watch.Wait(absl::Seconds(20)), 0) << ReadFile(env.dir() + "/watch.err");
  std::string events = ReadFile(env.dir() + "/watch.out");
  EXPECT_THAT(events, HasSubstr("\"change\":\"SESSION_CHANGE_INITIAL\",\"state\":"
                                "\"SESSION_STATE_SIGNED_IN\",\"active_org_slug\":\"yourcompany\""));
  EXPECT_THAT(events, HasSubstr("\"change\":\"SESSION_CHANGE_ORG_SWITCHED\",\"state\":"
                                "\"SESSION_STATE_SIGNED_IN\",\"active_org_slug\":\"test-org\""));
}

// Profiles from a plugin's side: the profile and organization come from its setting (here the
// environment and a flag), go into every request, and the reply says which answered.
TEST(E2eNodeClient, NamesTheProfileAndOrganizationInEveryRequest) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  RunResult org = env.RunCommand(NodeClient({"status", "--org", "test-org"}));
  ASSERT_EQ(org.exit_code, 0) << org.err;
  EXPECT_EQ(org.out,
            "{\"email\":\"you@yourcompany.com\",\"active_org_slug\":\"test-org\","
            "\"role\":\"member\",\"profile\":\"default\",\"org_source\":\"flag\"}\n");
  RunResult other = env.RunCommand(NodeClient({"status"}), {"DATAGEN_PROFILE=home"});
  EXPECT_EQ(other.exit_code, 4) << "nobody signed in the profile home";
  RunResult bad = env.RunCommand(NodeClient({"status", "--profile", "No/Such"}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("profile name"));
}

// Issue "Delegation": a plugin's one call for the token with what goes with it.
TEST(E2eNodeClient, OneCallGivesTheTokenWithItsIssuerOrganizationAndExpiry) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  RunResult r = env.RunCommand(NodeClient({"credentials", "--org", "test-org"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"token_type\":\"Bearer\",\"api_url\":\"" + env.api_url() +
                       "\",\"org\":\"test-org\",\"org_source\":\"flag\",\"profile\":"
                       "\"default\",\"email\":\"you@yourcompany.com\",\"expires_at\":null,"
                       "\"min_valid_unmet\":false,\"has_token\":true}\n");
  RunResult audit = env.Datagen({"auth", "audit"});
  EXPECT_THAT(audit.out, HasSubstr("/usr/bin/node"));
}

// Issue 22, bug 5, in another language: the Node client follows the session after the agent is
// killed (it starts one through the CLI, as the CLI's watch does) and after a stop and a start.
TEST(E2eNodeClient, TheWatchFollowsTheSessionAcrossACrashAndAStop) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  Child watch(NodeClient({"watch"}), env.Env({"DATAGEN_CLI=" + E2eEnv::DatagenBinary()}),
              env.dir() + "/watch.out", env.dir() + "/watch.err");
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_INITIAL"));
  pid_t first = env.AgentPid();
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_AGENT_REPLACED"))
      << ReadFile(env.dir() + "/watch.err");
  EXPECT_NE(env.AgentPid(), first);
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  ASSERT_EQ(env.Datagen({"auth", "agent", "stop"}).exit_code, 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_AGENT_STOPPING"));
  EXPECT_THAT(ReadFile(env.dir() + "/watch.err"), HasSubstr("waiting for one to start"));
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);  // starts one
  ASSERT_TRUE(env.AwaitOutput("watch",
                              "\"change\":\"SESSION_CHANGE_AGENT_REPLACED\",\"state\":"
                              "\"SESSION_STATE_SIGNED_IN\",\"active_org_slug\":"
                              "\"test-org\""));
  watch.Signal(SIGTERM);
  watch.Wait();
}

TEST(E2eNodeClient, TheStandardHealthServiceAnswersServing) {
  E2eEnv env;
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);  // starts the agent
  RunResult health = env.RunCommand(NodeClient({"health"}));
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "SERVING\n");
}

TEST(E2eNodeClient, SignedOutIsExitCode4) {
  E2eEnv env;
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
  RunResult status = env.RunCommand(NodeClient({"status"}));
  EXPECT_EQ(status.exit_code, 4);
  EXPECT_THAT(status.err, HasSubstr("not signed in"));
}

// The same rule as the CLI (docs/api.md): a socket folder that is not the user's, or a socket
// of another uid, is refused before anything is sent.
TEST(E2eNodeClient, RefusesASocketThatIsNotTheUsers) {
  E2eEnv env;
  std::string theirs = env.dir() + "/theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0777), 0);
  chmod(theirs.c_str(), 0777);
  RunResult status =
      env.RunCommand(NodeClient({"status"}), {"DATAGEN_AGENT_SOCKET=" + theirs + "/agent.sock"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("refusing to talk to the agent at " + theirs +
                                    "/agent.sock: its folder " + theirs + " is owned by uid"));
  EXPECT_THAT(status.err, HasSubstr("with mode 0777"));

  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);  // starts the agent
  ASSERT_EQ(chown(env.socket_path().c_str(), 65534, 65534), 0);
  status = env.RunCommand(NodeClient({"health"}));
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("it is a socket owned by uid 65534"));
}

}  // namespace
}  // namespace datagen::testing
