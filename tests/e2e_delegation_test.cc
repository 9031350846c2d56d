// Issue "Delegation": token --format json and --min-valid, exec, and the audit of who took a
// token, end to end against the real agent and the fake identity server.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/common/json.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Not through env.Datagen: its transcript is checked for tokens, and these commands print one
// (or hand one to a child that prints it).
RunResult Raw(E2eEnv& env, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {E2eEnv::DatagenBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, env.Env());
}

std::string RealPath(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  std::string out = real != nullptr ? real : path;
  free(real);
  return out;
}

TEST(E2eDelegation, ExecMirrorsExitCodesAndSignalsAndSaysWhyACommandCannotRun) {
  E2eEnv env;
  env.SignedIn();
  EXPECT_EQ(env.Datagen({"auth", "exec", "--", "/bin/sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(env.Datagen({"auth", "exec", "--", "/bin/true"}).exit_code, 0);

  RunResult missing = env.Datagen({"auth", "exec", "--", "no-such-command-here"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.err, HasSubstr("no-such-command-here: command not found"));
  std::string not_executable = env.dir() + "/not-executable";
  WriteFile(not_executable, "#!/bin/sh\nexit 0\n", 0600);
  RunResult refused = env.Datagen({"auth", "exec", "--", not_executable});
  EXPECT_EQ(refused.exit_code, 126);
  EXPECT_THAT(refused.err, HasSubstr("Permission denied"));

  // A signal sent to exec reaches the command, and exec exits as a shell would: 128 + N.
  for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) {
    const std::string name = absl::StrCat("sleeper", signo);
    Child running = env.StartDatagen(
        {"auth", "exec", "--", "/bin/sh", "-c", "echo started; exec sleep 60"}, name);
    ASSERT_TRUE(env.AwaitOutput(name, "started"));
    running.Signal(signo);
    EXPECT_EQ(running.Wait(absl::Seconds(20)), 128 + signo) << "signal " << signo;
  }

  RunResult usage = env.Datagen({"auth", "exec"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, HasSubstr("needs a command after --"));
}

TEST(E2eDelegation, TheChildSeesTheSessionButNeverTheRefreshToken) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0&refresh=1"), 200);
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  google::protobuf::Struct file;
  ASSERT_TRUE(ParseJson(ReadFile(env.credentials_path()), "credentials", &file).ok());
  const std::string refresh_token = file.fields().at("refresh_token").string_value();
  ASSERT_FALSE(refresh_token.empty());

  RunResult child = Raw(env, {"auth", "exec", "--", "/usr/bin/env"});
  ASSERT_EQ(child.exit_code, 0) << child.err;
  EXPECT_THAT(child.out, HasSubstr("DATAGEN_API_URL=" + env.api_url() + "\n"));
  EXPECT_THAT(child.out, HasSubstr("DATAGEN_PROFILE=default\n"));
  EXPECT_THAT(child.out, HasSubstr("DATAGEN_ORG=yourcompany\n"));
  EXPECT_THAT(child.out, Not(HasSubstr(refresh_token)));
  size_t at = child.out.find("DATAGEN_TOKEN=");
  ASSERT_NE(at, std::string::npos);
  std::string token = child.out.substr(at + 14, child.out.find('\n', at) - at - 14);
  EXPECT_TRUE(env.TokenActive(token)) << "the issuer accepts the child's token";
  // Nothing else of the environment changed: a variable of the caller's is there as it was.
  EXPECT_THAT(child.out, HasSubstr("HOME="));

  // An organization for the child alone, and the child's own `datagen auth token` inherits it.
  RunResult scoped =
      Raw(env, {"auth", "exec", "--org", "test-org", "--", "/bin/sh", "-c",
                "echo $DATAGEN_ORG; " + E2eEnv::DatagenBinary() + " auth token --format json"});
  ASSERT_EQ(scoped.exit_code, 0) << scoped.err;
  EXPECT_THAT(scoped.out, HasSubstr("test-org\n"));
  EXPECT_THAT(scoped.out, HasSubstr("\"org_source\":\"env\""));
}

TEST(E2eDelegation, MinValidRefreshesOnceForTwentyCallersAndSaysWhenTheServerGivesLess) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config",
                          "interval=1&auto_approve_after=0&token_expires_in=20&refresh=1"),
            200);
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  // 20 s tokens: once fewer than 14 s are left, asking for 14 s needs a refresh (14 s is within
  // three quarters of the lifetime, which the agent will refresh for).
  absl::SleepFor(absl::Seconds(7));
  const int before = env.ServerStat("refreshes");
  std::vector<std::string> replies(20);
  std::vector<std::thread> callers;
  for (size_t i = 0; i < replies.size(); ++i) {
    callers.emplace_back([&, i] {
      RunResult r = Raw(env, {"auth", "token", "--min-valid", "14s", "--format", "json"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      replies[i] = r.out;
    });
  }
  for (std::thread& caller : callers) caller.join();
  const absl::Time now = absl::Now();
  EXPECT_EQ(env.ServerStat("refreshes"), before + 1) << "one refresh for the 20 callers";
  for (const std::string& reply : replies) {
    google::protobuf::Struct json;
    ASSERT_TRUE(ParseJson(reply, "token reply", &json).ok()) << reply;
    EXPECT_EQ(json.fields().at("token_type").string_value(), "Bearer");
    google::protobuf::Timestamp expires;
    ASSERT_TRUE(google::protobuf::util::TimeUtil::FromString(
        json.fields().at("expires_at").string_value(), &expires));
    absl::Time expiry = absl::FromUnixSeconds(expires.seconds());
    EXPECT_GE(expiry - now, absl::Seconds(13)) << "valid for the time asked (to the second)";
    EXPECT_FALSE(json.fields().at("min_valid_unmet").bool_value());
    env.AddSecret(json.fields().at("token").string_value());
  }

  // More than the server ever gives: the freshest token, a warning, and no refresh per call.
  const int refreshes = env.ServerStat("refreshes");
  for (int i = 0; i < 5; ++i) {
    RunResult r = Raw(env, {"auth", "token", "--min-valid", "10m"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("expires in less than --min-valid 10m"));
    EXPECT_THAT(r.err, HasSubstr("issues tokens for 20s"));
    env.AddSecret(std::string(absl::StripAsciiWhitespace(r.out)));
  }
  EXPECT_LE(env.ServerStat("refreshes"), refreshes + 1);
  EXPECT_EQ(env.Datagen({"auth", "token", "--min-valid", "soon"}).exit_code, 2);
}

TEST(E2eDelegation, TheAuditNamesWhoTookATokenNewestFirstAndNeverTheToken) {
  E2eEnv env;
  env.SignedIn();
  const std::string datagen = E2eEnv::DatagenBinary();
  // Each shell prints its pid, then becomes the command (exec): the pid is the command's.
  RunResult cli = Raw(env, {"auth", "exec", "--", "/bin/sh", "-c",
                            "echo $$; exec " + datagen + " auth token >/dev/null"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  // sh -c "echo $$; exec datagen auth exec -- sh -c 'echo $$; exec datagen auth token'":
  // the exec's pid, then its child's.
  RunResult nested =
      RunProcess({"/bin/sh", "-c",
                  "echo $$; exec " + datagen + " auth exec -- /bin/sh -c 'echo $$; exec " +
                      datagen + " auth token >/dev/null'"},
                 env.Env());
  ASSERT_EQ(nested.exit_code, 0) << nested.err;
  std::vector<std::string> cli_pids = absl::StrSplit(absl::StripAsciiWhitespace(cli.out), '\n');
  std::vector<std::string> nested_pids =
      absl::StrSplit(absl::StripAsciiWhitespace(nested.out), '\n');
  ASSERT_EQ(cli_pids.size(), 1u) << cli.out;
  ASSERT_EQ(nested_pids.size(), 2u) << nested.out;

  RunResult audit = env.Datagen({"auth", "audit", "--format", "json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJson(audit.out, "audit", &json).ok()) << audit.out;
  const auto& handouts = json.fields().at("handouts").list_value().values();
  // Newest first: the nested child's `token`, the nested exec's own hand-out, the first
  // command's `token`, and the first exec's own hand-out.
  ASSERT_EQ(handouts.size(), 4u) << audit.out;
  auto pid_of = [&](int i) {
    return absl::StrCat(
        static_cast<int64_t>(handouts[i].struct_value().fields().at("pid").number_value()));
  };
  EXPECT_EQ(pid_of(0), nested_pids[1]) << "the child of exec that asked";
  EXPECT_EQ(pid_of(1), nested_pids[0]) << "exec itself";
  EXPECT_EQ(pid_of(2), cli_pids[0]) << "the command that asked";
  EXPECT_EQ(handouts[0].struct_value().fields().at("parent_pid").number_value(),
            handouts[1].struct_value().fields().at("pid").number_value())
      << "the child's parent is the exec that ran it";
  const std::string real_datagen = RealPath(datagen);
  for (const auto& h : handouts) {
    const auto& f = h.struct_value().fields();
    EXPECT_EQ(f.at("executable").string_value(), real_datagen);
    EXPECT_EQ(f.at("uid").number_value(), static_cast<double>(getuid()));
    EXPECT_EQ(f.at("profile").string_value(), "default");
    EXPECT_EQ(f.at("rpc").string_value(), "GetToken");
    EXPECT_FALSE(f.at("executable_changed").bool_value());
  }
  EXPECT_EQ(handouts[0].struct_value().fields().at("parent_executable").string_value(),
            real_datagen);
  EXPECT_EQ(handouts[2].struct_value().fields().at("parent_pid").number_value(),
            handouts[3].struct_value().fields().at("pid").number_value());
  RunResult text = env.Datagen({"auth", "audit"});
  EXPECT_THAT(text.out, HasSubstr("TIME"));
  EXPECT_THAT(text.out, HasSubstr(real_datagen));
  EXPECT_THAT(text.out, HasSubstr(nested_pids[1]));
}

// The public C++ library in a command of its own (tools/whoami): one call, then the issuer's
// userinfo accepts the token.
TEST(E2eDelegation, ACommandOnTheCppLibraryCallsUserinfoWithTheAgentsToken) {
  E2eEnv env;
  env.SignedIn();
  RunResult r = env.RunCommand({Runfile("tools/whoami/whoami")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "email you@yourcompany.com\norg yourcompany\nissuer " + env.api_url() + "\n");
  r = env.RunCommand({Runfile("tools/whoami/whoami"), "--org", "test-org"});
  EXPECT_THAT(r.out, HasSubstr("org test-org\n"));
  // Signed out: the library says so and signs nothing in (no device authorization starts).
  ASSERT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);
  const size_t grants = env.Grants().size();
  r = env.RunCommand({Runfile("tools/whoami/whoami")});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not signed in"));
  EXPECT_EQ(env.Grants().size(), grants);
}

// The library's trust checks are the CLI's: a socket in a folder another user owns gets no
// connection, and no agent is started in its place.
TEST(E2eDelegation, TheCppLibrarySendsNothingIntoAFolderThatIsNotTheUsers) {
  E2eEnv env;
  ForeignSocket theirs(env.dir());
  RunResult r =
      env.RunCommand({Runfile("tools/whoami/whoami")}, {"DATAGEN_AGENT_SOCKET=" + theirs.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is owned by uid 65534"));
  EXPECT_EQ(theirs.Record(), "0 0 0") << "no connection was made";
  EXPECT_LT(env.AgentPid(), 0) << "and no agent was started";
}

}  // namespace
}  // namespace datagen::testing
