// End to end: the real `datagen` and `datagen-agent` against the fake identity server, for
// every command of the foundation and its errors (docs/cli.md).
#include <signal.h>
#include <sys/stat.h>

#include <iostream>
#include <regex>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kStatusText[] =
    "email: you@yourcompany.com\n"
    "active_org_slug: yourcompany\n"
    "role: admin\n";

TEST(E2eCommands, StatusSignedOutExits4WithHint) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_EQ(r.err, "error: not signed in\nrun: datagen auth login\n");

  r = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"not signed in\"}}\n");
}

TEST(E2eCommands, StatusOrgListAndSwitchMatchTheDocumentation) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);

  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kStatusText);

  r = env.Datagen({"auth", "org", "--list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "active_org_slug: yourcompany\n"
            "memberships:\n"
            "- yourcompany (admin, active)\n"
            "- test-org (member)\n");

  r = env.Datagen({"auth", "org", "--use", "test-org"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "email: you@yourcompany.com\n"
            "active_org_slug: test-org\n"
            "role: member\n");
  EXPECT_THAT(ReadFile(env.credentials_path()), HasSubstr("\"active_org_slug\": \"test-org\""));

  r = env.Datagen({"auth", "org", "--use=yourcompany"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kStatusText);
}

TEST(E2eCommands, JsonOutputUsesTheSameKeys) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  RunResult r = env.Datagen({"auth", "status", "--format=json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"email\":\"you@yourcompany.com\","
                                "\"active_org_slug\":\"yourcompany\",\"role\":\"admin\""));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);

  r = env.Datagen({"auth", "org", "--list", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"memberships\":[{\"slug\":\"yourcompany\",\"role\":\"admin\","
                               "\"active\":true},{\"slug\":\"test-org\",\"role\":\"member\","
                               "\"active\":false}]"));
  r = env.Datagen({"auth", "logout", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("{\"status\":\"logged_out\",\"revoked\":true"));
}

TEST(E2eCommands, UnknownOrgIsRefusedAndTheFileIsUntouched) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  std::string before = ReadFile(env.credentials_path());
  RunResult r = env.Datagen({"auth", "org", "--use", "acme"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not a member of organization acme"));
  EXPECT_THAT(r.err, HasSubstr("run: datagen auth org --list"));
  EXPECT_EQ(ReadFile(env.credentials_path()), before);

  // Not a slug at all: a usage error, exit 2 (issue 22, bug 10), and the file untouched.
  r = env.Datagen({"auth", "org", "--use", "../../etc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'../../etc' is not an organization slug"));
  EXPECT_EQ(ReadFile(env.credentials_path()), before);
}

TEST(E2eCommands, RevokedTokenExits4) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  ASSERT_EQ(env.AdminPost("/_admin/revoke", "token=" + token), 200);
  // Within the staleness bound, status answers from memory; --verify asks the server now.
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  RunResult r = env.Datagen({"auth", "status", "--verify"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("expired or was revoked"));
  EXPECT_THAT(r.err, HasSubstr("run: datagen auth login"));
  // Once the server said so, every call knows.
  EXPECT_EQ(env.Datagen({"auth", "org", "--list"}).exit_code, 4);
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
}

TEST(E2eCommands, StatusReachesTheServerAtMostOncePerStalenessPeriod) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  for (int i = 0; i < 20; ++i) {
    RunResult r = i % 2 ? env.Datagen({"auth", "status"}) : env.Datagen({"auth", "org", "--list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto userinfo_requests = [&] {
    std::string log = ReadFile(env.dir() + "/server.err");
    int n = 0;
    for (size_t at = 0; (at = log.find("GET /o/userinfo", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  EXPECT_EQ(userinfo_requests(), 1);
  ASSERT_EQ(env.Datagen({"auth", "status", "--verify"}).exit_code, 0);
  // The server logs a request after it has answered it: wait for the line.
  EXPECT_TRUE(WaitUntil([&] { return userinfo_requests() == 2; })) << userinfo_requests();
}

// Issue 13: past the staleness bound, status and org --list answer from memory at once, marked
// unverified with the time of the last confirmation, whether the server hangs (accepts, never
// answers) or is down; the agent confirms in the background, and a revoked token is noticed by
// the next call after that.
TEST(E2eCommands, PastTheStalenessBoundStatusNeverWaitsOnTheNetwork) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  Child agent({E2eEnv::AgentBinary(), "--identity_max_age=1s"}, env.Env(), env.dir() + "/a.out",
              env.dir() + "/a.err");
  ASSERT_TRUE(WaitUntil([&] { return env.AgentPid() == agent.pid(); }));
  RunResult r = env.Datagen({"auth", "status", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"unverified\":false"));
  EXPECT_THAT(r.out, HasSubstr("\"verified_at\":\""));

  // Status and org --list, past the bound: at once, exit 0, unverified (text and JSON).
  auto expect_answered_unverified = [&](const std::string& what) {
    for (const char* command : {"status", "org"}) {
      std::vector<std::string> args = {"auth", command};
      if (std::string(command) == "org") args.push_back("--list");
      absl::Time start = absl::Now();
      RunResult r = env.Datagen(args);
      absl::Duration took = absl::Now() - start;
      std::cout << "FIGURE stale_" << command << "_" << what << "_ms "
                << absl::ToDoubleMilliseconds(took) << "\n";
      EXPECT_EQ(r.exit_code, 0) << r.err;
      // A round trip to a hanging server takes the helper's timeout; anything near fails.
      EXPECT_LT(took, absl::Seconds(3));
      EXPECT_THAT(r.out, HasSubstr("yourcompany"));
      EXPECT_THAT(r.err, StartsWith("warning: "));
      EXPECT_THAT(r.err, HasSubstr("shown as the server confirmed it at "));
    }
    RunResult json = env.Datagen({"auth", "status", "--format", "json"});
    EXPECT_EQ(json.exit_code, 0);
    EXPECT_THAT(json.out, HasSubstr("\"unverified\":true"));
    EXPECT_THAT(json.out, HasSubstr("\"verified_at\":\""));
  };

  // Waits until the agent's last confirmation (`verified_at` in a JSON status, to the second)
  // is older than the bound as the agent counts it: the bound, the second the field leaves out,
  // and a margin for the two clocks' reading apart.
  auto await_past_the_bound = [&](const std::string& json) {
    absl::Time verified_at;
    std::string error;
    std::smatch field;
    ASSERT_TRUE(std::regex_search(json, field, std::regex(R"re("verified_at":"([^"]+)")re")))
        << json;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, field[1].str(), &verified_at, &error)) << error;
    ASSERT_TRUE(WaitUntil(
        [&] { return absl::Now() > verified_at + absl::Seconds(2) + absl::Milliseconds(100); }));
  };

  // The server down (every connection dropped).
  await_past_the_bound(r.out);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "down=1"), 200);
  expect_answered_unverified("down");
  // The background confirmation failed: the warning says why.
  EXPECT_TRUE(WaitUntil([&] {
    return absl::StrContains(env.Datagen({"auth", "status"}).err, "could not reach 127.0.0.1");
  })) << ReadFile(env.dir() + "/a.err");
  EXPECT_EQ(env.Datagen({"auth", "status", "--verify"}).exit_code, 1) << "--verify waits";

  // Back, and the token revoked meanwhile: noticed by a call after the next confirmation.
  ASSERT_EQ(env.AdminPost("/_admin/fault", "reset=1"), 200);
  ASSERT_EQ(env.AdminPost("/_admin/revoke", "token=" + token), 200);
  EXPECT_TRUE(WaitUntil([&] { return env.Datagen({"auth", "status"}).exit_code == 4; }));

  // A server that accepts and never answers (a new session, confirmed, then past the bound).
  env.WriteCredentials(env.MintToken());
  ASSERT_TRUE(WaitUntil([&] { return env.Datagen({"auth", "status"}).exit_code == 0; }));
  RunResult confirmed = env.Datagen({"auth", "status", "--format", "json"});
  await_past_the_bound(confirmed.out);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "userinfo_reply=trickle"), 200);
  expect_answered_unverified("hanging");
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(), 0);
}

TEST(E2eCommands, LogoutRevokesAndDeletes) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  RunResult r = env.Datagen({"auth", "logout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "status: logged_out\n");
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_FALSE(env.TokenActive(token));
  struct stat st;
  EXPECT_NE(stat(env.credentials_path().c_str(), &st), 0);

  r = env.Datagen({"auth", "logout"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "status: no_credential\n");
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
}

TEST(E2eCommands, LogoutWithServerDownDeletesAndSaysRevocationDidNotHappen) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  env.StopServer();
  RunResult r = env.Datagen({"auth", "logout"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "status: logged_out\n");
  EXPECT_THAT(r.err, HasSubstr("NOT revoked"));
  struct stat st;
  EXPECT_NE(stat(env.credentials_path().c_str(), &st), 0);
}

TEST(E2eCommands, RevocationRefusedByServerIsReported) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "revocation_status=503"), 200);
  RunResult r = env.Datagen({"auth", "logout", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"revoked\":false"));
  EXPECT_THAT(r.err, HasSubstr("NOT revoked"));
  EXPECT_TRUE(env.TokenActive(token));
}

// docs/cli.md: status never waits on the network unless --verify; when the server cannot be reached
// it still answers (here from the credentials file: nothing was confirmed since the agent
// started), exit 0, marked unverified. --verify is a clear error, exit 1.
TEST(E2eCommands, ServerDownStatusAnswersUnverifiedAndVerifyExits1) {
  E2eEnv env(WithDiscovery(""));
  env.WriteCredentials("dgat_not_a_real_token_0123456789");
  env.AddSecret("dgat_not_a_real_token_0123456789");
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "email: you@yourcompany.com\nactive_org_slug: yourcompany\nrole: \n");
  EXPECT_THAT(r.err, StartsWith("warning: "));
  EXPECT_THAT(r.err, HasSubstr("could not reach 127.0.0.1"));
  EXPECT_THAT(r.err, HasSubstr("shown as stored in the credentials file"));
  r = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("\"unverified\":true"));
  EXPECT_THAT(r.out, Not(HasSubstr("verified_at"))) << "never confirmed since the agent started";
  r = env.Datagen({"auth", "org", "--list"});
  EXPECT_EQ(r.exit_code, 1) << "no membership is known yet";
  EXPECT_THAT(r.err, HasSubstr("could not reach 127.0.0.1"));

  r = env.Datagen({"auth", "status", "--verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("could not reach 127.0.0.1"));
  EXPECT_THAT(r.err, HasSubstr("DATAGEN_API_URL"));
  r = env.Datagen({"auth", "status", "--verify", "--format", "json"});
  EXPECT_THAT(r.out, StartsWith("{\"error\":{\"code\":\"unavailable\""));
}

TEST(E2eCommands, ServerErrorsAndGarbageAreClearErrors) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.AdminPost("/_admin/fault", "userinfo_status=500"), 200);
  RunResult r = env.Datagen({"auth", "status", "--verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("HTTP 500"));
  r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << "answered, unverified";
  EXPECT_THAT(r.err, HasSubstr("HTTP 500"));
  ASSERT_EQ(env.AdminPost("/_admin/fault", "reset=1&userinfo_garbage=1"), 200);
  r = env.Datagen({"auth", "status", "--verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("userinfo reply is not valid JSON"));
  ASSERT_EQ(env.AdminPost("/_admin/fault", "reset=1"), 200);
  r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, kStatusText);
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(E2eCommands, DefaultPathsWhenTheServerHasNoDiscoveryDocument) {
  E2eEnv env(WithDiscovery("none"));
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kStatusText);
  EXPECT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);
  EXPECT_FALSE(env.TokenActive(token));
  EXPECT_THAT(env.AgentLog(), HasSubstr("endpoints from defaults"));
}

TEST(E2eCommands, Rfc8414MetadataIsUsedWhenOpenIdConfigurationIsMissing) {
  E2eEnv env(WithDiscovery("rfc8414"));
  env.WriteCredentials(env.MintToken());
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(env.AgentLog(), HasSubstr("endpoints from oauth-authorization-server"));
}

TEST(E2eCommands, UserWithoutOrganizations) {
  E2eEnv env;
  std::string token = env.MintToken("solo@example.com");
  env.WriteCredentials(token, "");
  RunResult r = env.Datagen({"auth", "org", "--list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "active_org_slug: \nmemberships:\n");
  r = env.Datagen({"auth", "org", "--use", "yourcompany"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("you belong to no organization"));
}

TEST(E2eCommands, PlainHttpToANonLoopbackHostIsRefused) {
  E2eEnv env(WithDiscovery(""));
  env.WriteCredentials("dgat_not_a_real_token_0123456789", "yourcompany",
                       "http://api.datagen.example");
  // Nothing is dialed: the URL policy refuses before any connection.
  RunResult r = env.Datagen({"auth", "status"}, {"DATAGEN_API_URL=http://api.datagen.example"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("refusing plain http://"));
}

TEST(E2eCommands, UsageErrorsExit2WithAOneLineHintAndStartNoAgent) {
  E2eEnv env;
  const std::vector<std::vector<std::string>> cases = {
      {"auth", "bogus"},
      {"nope"},
      {"auth", "status", "--verbose"},
      {"auth", "status", "--format", "yaml"},
      {"auth", "status", "--format"},
      {"auth", "org"},
      {"auth", "org", "--list", "--use", "x"},
      {"auth", "org", "--use"},
      {"auth", "org", "--use", "--list"},
      {"auth", "status", "extra"},
      {"auth", "logout", "--list"},
  };
  for (const auto& args : cases) {
    RunResult r = env.Datagen(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_THAT(r.err, StartsWith("error: ")) << args.back();
    EXPECT_THAT(r.err, HasSubstr("\nusage: datagen")) << args.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  }
  RunResult r = env.Datagen({"auth", "org", "--format", "json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, StartsWith("{\"error\":{\"code\":\"usage\""));
  EXPECT_EQ(env.AgentPid(), -1) << "a usage error must not start the agent";
}

TEST(E2eCommands, HelpExits0) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("datagen auth org --list"));
}

// Issue 22: `agent stop|restart|status` (there was no way to stop the agent but its pid), and a
// running agent that silently ignored the shell's settings (bug 4).
TEST(E2eCommands, AgentStatusStopAndRestartWithThisShellsSettings) {
  E2eEnv env;
  RunResult none = env.Datagen({"auth", "agent", "status"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "agent: not running (it starts on demand)\n");
  EXPECT_EQ(env.AgentPid(), -1) << "status starts no agent";
  EXPECT_EQ(env.Datagen({"auth", "agent", "stop"}).out, "agent: not running\n");

  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  pid_t first = env.AgentPid();
  ASSERT_GT(first, 0);
  RunResult shown = env.Datagen({"auth", "agent", "status", "--format", "json"});
  EXPECT_THAT(shown.out, HasSubstr("\"running\":true"));
  EXPECT_THAT(shown.out, HasSubstr("\"pid\":\"" + std::to_string(first) + "\""));

  // Another server in this shell: status says so, and the one command that applies it.
  const std::string other = "http://127.0.0.1:" + std::to_string(UnusedLoopbackPort());
  RunResult warned = env.Datagen({"auth", "status"}, {"DATAGEN_API_URL=" + other});
  EXPECT_EQ(warned.exit_code, 0);
  EXPECT_THAT(warned.err, HasSubstr("this shell's DATAGEN_API_URL (" + other + "; the agent's: " +
                                    env.api_url() + ") differs from the running agent's"));
  EXPECT_THAT(warned.err, HasSubstr("datagen auth agent restart"));
  RunResult restarted = env.Datagen({"auth", "agent", "restart"}, {"DATAGEN_API_URL=" + other});
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
  EXPECT_THAT(restarted.out, HasSubstr("agent: stopped (pid " + std::to_string(first) + ")\n"));
  EXPECT_THAT(restarted.out, HasSubstr("agent: running\npid: "));
  EXPECT_TRUE(AwaitGone(first));
  pid_t second = env.AgentPid();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  RunResult json =
      env.Datagen({"auth", "status", "--format", "json"}, {"DATAGEN_API_URL=" + other});
  EXPECT_THAT(json.out, HasSubstr("\"configured_api_url\":\"" + other + "\""));
  EXPECT_THAT(json.err, Not(HasSubstr("from the running agent's")));

  RunResult stopped = env.Datagen({"auth", "agent", "stop"});
  EXPECT_EQ(stopped.exit_code, 0);
  EXPECT_EQ(stopped.out, "agent: stopped (pid " + std::to_string(second) + ")\n");
  EXPECT_EQ(env.AgentPid(), -1);
  struct stat st;
  EXPECT_NE(stat(env.socket_path().c_str(), &st), 0) << "it removed its socket, as on SIGTERM";
  RunResult wrong = env.Datagen({"auth", "agent", "kill"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("auth agent takes start, stop, restart, status, not kill"));

  // start: one with this shell's settings when none runs; a running one is left as it is.
  RunResult started = env.Datagen({"auth", "agent", "start"});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  EXPECT_THAT(started.out, StartsWith("agent: started\nagent: running\npid: "));
  EXPECT_THAT(started.out, HasSubstr("identity server: " + env.api_url() + "\n"));
  EXPECT_THAT(started.out, HasSubstr("credentials: " + env.credentials_path() + "\n"));
  pid_t third = env.AgentPid();
  EXPECT_GT(third, 0);
  RunResult again = env.Datagen({"auth", "agent", "start", "--format", "json"});
  EXPECT_THAT(again.out, StartsWith("{\"running\":true,\"agent\":"));
  EXPECT_EQ(env.AgentPid(), third);
}

// Issue 22, bug 4, the credentials folder: a shell with another XDG_CONFIG_HOME talks to the
// running agent, which serves the file it started with. It must not silently show that account.
TEST(E2eCommands, AShellWithAnotherCredentialsFolderIsToldTheAgentServesAnother) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  const std::string elsewhere = env.dir() + "/other-config";
  RunResult r = env.Datagen({"auth", "status"}, {"XDG_CONFIG_HOME=" + elsewhere});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("warning: this shell's credentials file (" + elsewhere +
                               "/datagen/credentials.json, from XDG_CONFIG_HOME or HOME; the "
                               "agent's: " +
                               env.credentials_path() + ") differs"));
  EXPECT_THAT(r.err, HasSubstr("to apply this shell's: datagen auth agent restart"));
  RunResult doctor = env.Datagen({"auth", "doctor"}, {"XDG_CONFIG_HOME=" + elsewhere});
  EXPECT_THAT(doctor.out, ContainsRegex("warn +settings +this shell's credentials file"));
  EXPECT_THAT(doctor.out, HasSubstr("fix: datagen auth agent restart"));
  RunResult same = env.Datagen({"auth", "doctor"});
  EXPECT_THAT(same.out, ContainsRegex("ok +settings"));
}

// Issue 22, bug 7: signed out, JSON reports the pending revocations as a field, not only in
// the English message; and a login that waits is named with its code (text and JSON).
TEST(E2eCommands, SignedOutStatusReportsPendingRevocationsAndAWaitingLogin) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  env.StopServer();
  ASSERT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);  // revocation queued
  RunResult json = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_EQ(json.exit_code, 4);
  EXPECT_THAT(json.out, StartsWith("{\"error\":{\"code\":\"unauthenticated\",\"message\":"
                                   "\"not signed in (1 token(s) of an ended session"));
  EXPECT_THAT(json.out, HasSubstr("},\"revocations_pending\":1}\n"));
  RunResult text = env.Datagen({"auth", "status"});
  EXPECT_EQ(text.exit_code, 4);
  EXPECT_THAT(text.err, StartsWith("error: not signed in (1 token(s)"));
  EXPECT_THAT(text.err, HasSubstr("run: datagen auth login\n"));
}

TEST(E2eCommands, StatusWhileALoginWaitsNamesItsCode) {
  E2eEnv env;
  Child login = env.StartDatagen({"auth", "login", "--no-browser"}, "login");
  ASSERT_TRUE(env.AwaitOutput("login", "User code: "));
  std::string code = ReadFile(env.dir() + "/login.out");
  code = code.substr(code.find("User code: ") + 11, 9);
  RunResult text = env.Datagen({"auth", "status"});
  EXPECT_EQ(text.exit_code, 4);
  EXPECT_THAT(text.err, StartsWith("error: not signed in\na login waits for approval: code " +
                                   code + " at "));
  RunResult json = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_THAT(json.out, HasSubstr("\"},\"pending_login\":{\"user_code\":\"" + code + "\""));
  login.Signal(SIGINT);
  login.Wait();
}

// The seed's wording stays (`status: no_credential`), with a line for people on stderr.
TEST(E2eCommands, LogoutWhenSignedOutSaysSoForPeople) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "logout"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "status: no_credential\n");
  EXPECT_EQ(r.err, "note: not signed in: there was no session to log out of\n");
  EXPECT_EQ(env.Datagen({"auth", "logout", "--format", "json"}).err, "");
}

// Issue 22: per-command --help, `auth help <command>`, `completion --help`: exit 0, on stdout.
TEST(E2eCommands, EveryCommandHasItsOwnHelp) {
  E2eEnv env;
  RunResult status = env.Datagen({"auth", "help", "status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.out, env.Datagen({"auth", "status", "--help"}).out);
  EXPECT_THAT(status.out, HasSubstr("examples:\n  datagen auth status\n"));
  RunResult completion = env.Datagen({"completion", "--help"});
  EXPECT_EQ(completion.exit_code, 0);
  EXPECT_THAT(completion.out, StartsWith("usage: datagen completion bash|zsh|fish\n"));
  EXPECT_EQ(env.AgentPid(), -1) << "help starts no agent";
}

}  // namespace
}  // namespace datagen::testing
