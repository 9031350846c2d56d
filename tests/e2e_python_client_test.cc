// The Python client (client/python/datagen_auth, on Debian's python3-grpcio, stubs generated
// from proto/ at build time) against the real agent: one call for a token the issuer accepts,
// autostart as the CLI does, and nothing sent into a folder that is not the user's.
#include <stdlib.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/common/json.h"
#include "agent/common/paths.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs `code` in python3 with the package on its path and `datagen` on PATH (for autostart).
// Not through env.RunCommand: what these print may be a token.
RunResult Python(E2eEnv& env, const std::string& code, std::vector<std::string> extra = {}) {
  extra.push_back("PYTHONPATH=" + Runfile("client/python"));
  extra.push_back("PATH=" + Dirname(E2eEnv::DatagenBinary()) + ":" +
                  Dirname(E2eEnv::AgentBinary()) + ":/usr/bin:/bin");
  return RunProcess({"/usr/bin/python3", "-c", code}, env.Env(extra));
}

TEST(E2ePythonClient, OneCallGivesATokenItsIssuerAcceptsWithWhatGoesWithIt) {
  E2eEnv env;
  env.SignedIn();
  RunResult r =
      Python(env,
             "import datagen_auth as d\n"
             "c = d.credentials()\n"
             "print(c.token)\n"
             "print(c.api_url, c.org, c.org_source, c.profile, c.email, c.token_type)\n"
             "print(repr(c))\n"
             "s = d.status()\n"
             "print(s['email'], s['api_url'] == c.api_url, s['token_expires_at'] == c.expires_at)\n"
             "print(d.token(org='test-org') == c.token)\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string token = r.out.substr(0, r.out.find('\n'));
  env.AddSecret(token);
  EXPECT_TRUE(env.TokenActive(token));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(env.api_url(),
                                            " yourcompany file default you@yourcompany.com "
                                            "Bearer\n")));
  // repr keeps the token out of logs and tracebacks.
  std::string rest = r.out.substr(r.out.find('\n') + 1);
  EXPECT_THAT(rest, Not(HasSubstr(token)));
  EXPECT_THAT(rest, HasSubstr("token=<hidden>"));
  EXPECT_THAT(rest, HasSubstr("you@yourcompany.com True True\nTrue\n"));

  // Who took it: the audit names this python3 process, by pid and executable.
  RunResult pid =
      Python(env, "import os, datagen_auth\ndatagen_auth.token()\nprint(os.getpid())\n");
  ASSERT_EQ(pid.exit_code, 0) << pid.err;
  RunResult audit = env.Datagen({"auth", "audit", "--format", "json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJson(audit.out, "audit", &json).ok()) << audit.out;
  const auto& newest = json.fields().at("handouts").list_value().values(0).struct_value().fields();
  EXPECT_EQ(absl::StrCat(static_cast<int64_t>(newest.at("pid").number_value())),
            absl::StripAsciiWhitespace(pid.out));
  char* python = realpath("/usr/bin/python3", nullptr);
  ASSERT_NE(python, nullptr);
  EXPECT_EQ(newest.at("executable").string_value(), python);
  free(python);
  EXPECT_EQ(newest.at("rpc").string_value(), "GetToken");
}

// A program whose executable is replaced while it runs (an update, or one covering its tracks)
// is marked in the audit.
TEST(E2ePythonClient, TheAuditMarksAnExecutableReplacedSinceItsProcessStarted) {
  E2eEnv env;
  env.SignedIn();
  std::string copy = env.dir() + "/py", spare = env.dir() + "/py-spare";
  ASSERT_EQ(RunProcess({"/bin/cp", "/usr/bin/python3", copy}, {}).exit_code, 0);
  ASSERT_EQ(RunProcess({"/bin/cp", "/usr/bin/python3", spare}, {}).exit_code, 0);
  std::vector<std::string> extra = {"PYTHONPATH=" + Runfile("client/python"),
                                    "PATH=" + Dirname(E2eEnv::DatagenBinary()) + ":" +
                                        Dirname(E2eEnv::AgentBinary()) + ":/usr/bin:/bin"};
  RunResult r = RunProcess({copy, "-c",
                            "import os, datagen_auth\n"
                            "os.replace('" +
                                spare + "', '" + copy +
                                "')\n"
                                "print(len(datagen_auth.token()) > 0)\n"},
                           env.Env(extra));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult audit = env.Datagen({"auth", "audit"});
  EXPECT_THAT(audit.out, HasSubstr(copy + " (changed since it started)"));
}

TEST(E2ePythonClient, StartsTheAgentAsTheCliDoesAndSaysWhenSignedOut) {
  E2eEnv env;
  env.SignedIn();
  ASSERT_TRUE(env.StopAgent());
  RunResult r = Python(env, "import datagen_auth as d\nprint(len(d.token()) > 0)\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "True\n");
  EXPECT_GT(env.AgentPid(), 0) << "the client started an agent";

  // One program across an agent restart: its next call finds the new agent.
  RunResult across = Python(env,
                            "import subprocess, datagen_auth as d\n"
                            "d.token()\n"
                            "subprocess.run(['datagen', 'auth', 'agent', 'stop'], check=True, "
                            "stdout=subprocess.DEVNULL)\n"
                            "print(len(d.token()) > 0)\n"
                            "subprocess.run(['datagen', 'auth', 'agent', 'restart'], check=True, "
                            "stdout=subprocess.DEVNULL)\n"
                            "print(len(d.token()) > 0)\n");
  ASSERT_EQ(across.exit_code, 0) << across.err;
  EXPECT_EQ(across.out, "True\nTrue\n");

  RunResult out = Python(env,
                         "import datagen_auth as d\n"
                         "try:\n"
                         "    d.token(profile='nobody-here')\n"
                         "except d.NotSignedIn as e:\n"
                         "    print('not signed in:', e)\n");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_THAT(out.out, HasSubstr("not signed in:"));
}

TEST(E2ePythonClient, SendsNothingIntoAFolderThatIsNotTheUsers) {
  E2eEnv env;
  ForeignSocket theirs(env.dir());
  RunResult r = Python(env,
                       "import datagen_auth as d\n"
                       "try:\n"
                       "    d.token()\n"
                       "except d.UnsafeSocketFolder as e:\n"
                       "    print('refused:', e)\n",
                       {"DATAGEN_AGENT_SOCKET=" + theirs.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("refused:"));
  EXPECT_THAT(r.out, HasSubstr("belongs to uid 65534"));
  EXPECT_EQ(theirs.Record(), "0 0 0") << "no connection was made";
  EXPECT_LT(env.AgentPid(), 0) << "and no agent was started";
}

}  // namespace
}  // namespace datagen::testing
