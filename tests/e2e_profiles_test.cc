// Issue "Several identities at once": profiles at two identity servers, signed in at once in one
// agent; an organization per command or per shell that changes no file; a logout of one profile
// that leaves the others. Two fake identity servers (two E2eEnv worlds: this one's, and a second
// whose server is the other issuer) on loopback.
#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// Signs in `profile` ("" for none named) at `issuer`'s server, approved at once.
RunResult LoginAt(E2eEnv& env, E2eEnv& issuer, const std::string& profile) {
  EXPECT_EQ(issuer.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  std::vector<std::string> args = {"auth", "login", "--no-browser"};
  if (!profile.empty()) {
    args.insert(args.end(), {"--profile", profile, "--api-url", issuer.api_url()});
  }
  return env.Datagen(args);
}

// Not through env.Datagen: its transcript is checked for tokens, and printing this one is the
// point of the command.
std::string Token(E2eEnv& env, const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv = {E2eEnv::DatagenBinary(), "auth", "token"};
  argv.insert(argv.end(), more.begin(), more.end());
  RunResult r = RunProcess(argv, env.Env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::string(absl::StripAsciiWhitespace(r.out));
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST(E2eProfiles, TwoProfilesAtTwoIssuersAreSignedInAtOnceAndTokensGoOnlyToTheirOwn) {
  E2eEnv env;    // its server is issuer A: the default profile signs in there
  E2eEnv other;  // its server is issuer B: the profile "staging"
  RunResult a = LoginAt(env, env, "");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  RunResult b = LoginAt(env, other, "staging");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_THAT(b.out, HasSubstr("status: authenticated"));

  // Its own file, 0600 in a 0700 folder of its own; the default profile's file is where it was.
  std::string staging = env.dir() + "/cfg/datagen/profiles/staging/credentials.json";
  EXPECT_EQ(ModeOf(staging), 0600u);
  EXPECT_EQ(ModeOf(env.dir() + "/cfg/datagen/profiles/staging"), 0700u);
  EXPECT_EQ(ModeOf(env.credentials_path()), 0600u);

  // Chosen by flag or by environment; nothing else names it.
  RunResult flag = env.Datagen({"auth", "status", "--profile", "staging", "--format", "json"});
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_THAT(flag.out, HasSubstr("\"profile\":\"staging\""));
  EXPECT_THAT(flag.out, HasSubstr(absl::StrCat("\"api_url\":\"", other.api_url(), "\"")));
  RunResult by_env = env.Datagen({"auth", "status"}, {"DATAGEN_PROFILE=staging"});
  EXPECT_EQ(by_env.exit_code, 0) << by_env.err;
  EXPECT_THAT(by_env.out, HasSubstr("profile: staging\n"));
  EXPECT_THAT(by_env.err, Not(HasSubstr("warning"))) << "a profile's own issuer is no surprise";
  RunResult plain = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_THAT(plain.out, HasSubstr(absl::StrCat("\"api_url\":\"", env.api_url(), "\"")));
  EXPECT_THAT(plain.out, HasSubstr("\"profile\":\"default\""));

  // 100 token calls of each profile, all at once: each token is accepted by its own issuer.
  std::vector<std::string> tokens_a(100), tokens_b(100);
  std::vector<std::thread> callers;
  std::atomic<int> failed{0};
  for (int t = 0; t < 10; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        tokens_a[t * 10 + i] = Token(env);
        tokens_b[t * 10 + i] = Token(env, {"--profile", "staging"});
        if (tokens_a[t * 10 + i].empty() || tokens_b[t * 10 + i].empty()) ++failed;
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(failed.load(), 0);
  for (const std::string& token : tokens_a) env.AddSecret(token);
  for (const std::string& token : tokens_b) other.AddSecret(token);
  EXPECT_TRUE(env.TokenActive(tokens_a[0]));
  EXPECT_TRUE(other.TokenActive(tokens_b[0]));
  EXPECT_NE(tokens_a[0], tokens_b[0]);
  // The agent asked each issuer only about its own tokens (userinfo, revocation).
  RunResult both = env.Datagen({"auth", "status", "--verify", "--profile", "staging"});
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_EQ(env.ServerStat("foreign_tokens"), 0);
  EXPECT_EQ(other.ServerStat("foreign_tokens"), 0);

  // The doctor of a profile checks the issuer it signed in at: no warning that it is not the
  // agent's configured one (that is the default profile's concern).
  RunResult doctor = env.Datagen({"auth", "doctor", "--profile", "staging"});
  EXPECT_THAT(doctor.out, HasSubstr(other.api_url()));
  EXPECT_THAT(doctor.out, Not(HasSubstr("but the agent is configured for"))) << doctor.out;

  // Every profile at a glance.
  RunResult all = env.Datagen({"auth", "status", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, MatchesRegex("PROFILE +STATE +EMAIL +ORG +IDENTITY SERVER\n"
                                    "default +(signed_in|unverified) +you@yourcompany.com +"
                                    "yourcompany +http://127.0.0.1:[0-9]+\n"
                                    "staging +(signed_in|unverified) +you@yourcompany.com +"
                                    "yourcompany +http://127.0.0.1:[0-9]+\n"));
  RunResult all_json = env.Datagen({"auth", "status", "--all", "--format", "json"});
  EXPECT_THAT(all_json.out, HasSubstr("\"profile\":\"staging\""));

  // Signing one profile out revokes at its issuer only; the other stays signed in.
  int revoked_a = env.ServerStat("revocations");
  RunResult out = env.Datagen({"auth", "logout", "--profile", "staging"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, "profile: staging\nstatus: logged_out\n");
  EXPECT_FALSE(other.TokenActive(tokens_b[0]));
  EXPECT_TRUE(env.TokenActive(tokens_a[0]));
  EXPECT_EQ(env.ServerStat("revocations"), revoked_a);
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  RunResult gone = env.Datagen({"auth", "status", "--profile", "staging"});
  EXPECT_EQ(gone.exit_code, 4);
  EXPECT_THAT(gone.err, HasSubstr("run: datagen auth login --profile staging"));
  EXPECT_EQ(env.ServerStat("foreign_tokens"), 0);
  EXPECT_EQ(other.ServerStat("foreign_tokens"), 0);

  // `logout --all` signs out every profile, each at its own issuer, and names each one.
  ASSERT_EQ(LoginAt(env, other, "home").exit_code, 0);
  std::string token_home = Token(env, {"--profile", "home"});
  RunResult all_out = env.Datagen({"auth", "logout", "--all"});
  EXPECT_EQ(all_out.exit_code, 0) << all_out.err;
  EXPECT_EQ(all_out.out,
            "profile: default\nstatus: logged_out\nprofile: home\nstatus: logged_out\n"
            "profile: staging\nstatus: no_credential\n");
  EXPECT_EQ(all_out.err, "") << "both issuers confirmed their revocations";
  EXPECT_FALSE(env.TokenActive(tokens_a[0]));
  EXPECT_FALSE(other.TokenActive(token_home));
  RunResult none = env.Datagen({"auth", "status", "--all"});
  EXPECT_THAT(none.out, Not(HasSubstr("signed_in")));
  EXPECT_EQ(env.ServerStat("foreign_tokens"), 0);
  EXPECT_EQ(other.ServerStat("foreign_tokens"), 0);
}

// Short-lived tokens at both servers: every call of both profiles answers over several
// lifetimes, and each profile refreshes on its own, about once per lifetime for all its callers
// (3-second tokens are refreshed a second ahead: 1.5 per lifetime), never once per call (a server
// that revokes a grant on refresh-token reuse stays happy). Before the hand-out margin was a
// share of a short lifetime, every `token` call refreshed a 3-second token.
TEST(E2eProfiles, EachProfileRefreshesOncePerLifetimeForAllItsCallers) {
  E2eEnv env;
  E2eEnv other;
  for (E2eEnv* server : {&env, &other}) {
    ASSERT_EQ(server->AdminPost("/_admin/config",
                                "interval=1&auto_approve_after=0&token_expires_in=3&refresh=1"),
              200);
  }
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser", "--profile", "staging", "--api-url",
                         other.api_url()})
                .exit_code,
            0);
  const absl::Time start = absl::Now();
  std::atomic<int> calls{0}, failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      std::vector<std::string> args = {E2eEnv::DatagenBinary(), "auth", t % 2 ? "status" : "token"};
      if (t >= 2) args.insert(args.end(), {"--profile", "staging"});
      while (absl::Now() - start < absl::Seconds(10)) {
        RunResult r = RunProcess(args, env.Env());
        ++calls;
        if (r.exit_code != 0) ++failures;
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  const double lifetimes = absl::ToDoubleSeconds(absl::Now() - start) / 3;
  EXPECT_EQ(failures.load(), 0) << "of " << calls.load() << " calls";
  for (E2eEnv* server : {&env, &other}) {
    int refreshes = server->ServerStat("refreshes");
    EXPECT_GE(refreshes, 2) << "tokens of 3 s over " << lifetimes << " lifetimes";
    EXPECT_LE(refreshes, static_cast<int>(lifetimes * 2) + 2) << "per lifetime, not per call";
    EXPECT_EQ(server->ServerStat("refresh_reuses"), 0);
    EXPECT_EQ(server->ServerStat("foreign_tokens"), 0);
  }
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  EXPECT_EQ(env.Datagen({"auth", "status", "--profile", "staging"}).exit_code, 0);
}

TEST(E2eProfiles, AnOrgPerCommandOrPerShellChangesNoFileAndMustBeAMembership) {
  E2eEnv env;
  env.SignedIn();
  const std::string before = ReadFile(env.credentials_path());

  RunResult shell = env.Datagen({"auth", "status"}, {"DATAGEN_ORG=test-org"});
  EXPECT_EQ(shell.exit_code, 0) << shell.err;
  EXPECT_EQ(shell.out,
            "email: you@yourcompany.com\nactive_org_slug: test-org\nrole: member\n"
            "org_source: env\n");
  RunResult flag = env.Datagen({"auth", "status", "--org", "test-org", "--format", "json"},
                               {"DATAGEN_ORG=yourcompany"});
  EXPECT_THAT(flag.out, HasSubstr("\"active_org_slug\":\"test-org\""));
  EXPECT_THAT(flag.out, HasSubstr("\"org_source\":\"flag\""));
  RunResult plain = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_THAT(plain.out, HasSubstr("\"active_org_slug\":\"yourcompany\""));
  EXPECT_THAT(plain.out, HasSubstr("\"org_source\":\"file\""));
  EXPECT_EQ(ReadFile(env.credentials_path()), before) << "no file changes";

  // Not a membership: exit 1, "not a member", nothing changed.
  RunResult stranger = env.Datagen({"auth", "status"}, {"DATAGEN_ORG=elsewhere"});
  EXPECT_EQ(stranger.exit_code, 1);
  EXPECT_THAT(stranger.err, HasSubstr("not a member of organization elsewhere"));
  RunResult token = env.Datagen({"auth", "token", "--org", "elsewhere"});
  EXPECT_EQ(token.exit_code, 1);
  EXPECT_EQ(token.out, "") << "no token for an organization the user is not in";
  EXPECT_EQ(ReadFile(env.credentials_path()), before);

  // Another shell switches the stored organization; this shell's DATAGEN_ORG still wins here,
  // and the switch says so where it is made under one.
  RunResult use = env.Datagen({"auth", "org", "--use", "test-org"}, {"DATAGEN_ORG=yourcompany"});
  EXPECT_EQ(use.exit_code, 0) << use.err;
  EXPECT_THAT(use.err, HasSubstr("note: DATAGEN_ORG=yourcompany is set in this shell"));
  RunResult here = env.Datagen({"auth", "status"}, {"DATAGEN_ORG=yourcompany"});
  EXPECT_THAT(here.out, HasSubstr("active_org_slug: yourcompany\n"));
  RunResult elsewhere = env.Datagen({"auth", "status"});
  EXPECT_THAT(elsewhere.out, HasSubstr("active_org_slug: test-org\n"));
  RunResult list = env.Datagen({"auth", "org", "--list"}, {"DATAGEN_ORG=yourcompany"});
  EXPECT_THAT(list.out, HasSubstr("- yourcompany (admin, active)\n"));
}

// Per directory, without any state in the agent: direnv exports DATAGEN_PROFILE from a
// project's .envrc, as docs/cli.md shows, and a command run there uses that profile.
TEST(E2eProfiles, ADirectorysEnvrcPicksTheProfileThroughDirenv) {
  E2eEnv env;
  env.SignedIn();
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser", "--profile", "staging"}).exit_code, 0);
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org", "--profile", "staging"}).exit_code,
            0);
  const std::string project = env.dir() + "/project";
  ASSERT_EQ(mkdir(project.c_str(), 0700), 0);
  RunResult wrote = env.RunCommand(
      {"/bin/sh", "-c", "echo 'export DATAGEN_PROFILE=staging' > " + project + "/.envrc"});
  ASSERT_EQ(wrote.exit_code, 0);
  RunResult allowed = env.RunCommand({"/usr/bin/direnv", "allow", project});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  RunResult there = env.RunCommand(
      {"/usr/bin/direnv", "exec", project, E2eEnv::DatagenBinary(), "auth", "status"});
  EXPECT_EQ(there.exit_code, 0) << there.err;
  EXPECT_THAT(there.out, HasSubstr("profile: staging\n"));
  EXPECT_THAT(there.out, HasSubstr("active_org_slug: test-org\n"));
  RunResult elsewhere = env.Datagen({"auth", "status"});
  EXPECT_THAT(elsewhere.out, HasSubstr("active_org_slug: yourcompany\n"));
  EXPECT_THAT(elsewhere.out, Not(HasSubstr("profile:")));
}

TEST(E2eProfiles, ABadProfileOrOrgIsAUsageErrorWhereverItComesFrom) {
  E2eEnv env;
  for (const auto& [args, extra] :
       std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"auth", "status", "--profile", "../x"}, {}},
           {{"auth", "status", "--profile", "Work"}, {}},
           {{"auth", "status"}, {"DATAGEN_PROFILE=a/b"}},
           {{"auth", "status"}, {"DATAGEN_ORG=a b"}},
           {{"auth", "status", "--all", "--profile", "x"}, {}},
           {{"auth", "org", "--use", "x", "--org", "y"}, {}}}) {
    RunResult r = env.Datagen(args, extra);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(env.AgentPid(), -1) << "a usage error starts no agent";
  // A profile nobody signed in is signed out, and naming it creates nothing.
  RunResult none = env.Datagen({"auth", "status", "--profile", "nobody"});
  EXPECT_EQ(none.exit_code, 4);
  EXPECT_EQ(ModeOf(env.dir() + "/cfg/datagen/profiles/nobody"), 0u);
  RunResult logout = env.Datagen({"auth", "logout", "--profile", "nobody"});
  EXPECT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_EQ(logout.out, "profile: nobody\nstatus: no_credential\n");
}

}  // namespace
}  // namespace datagen::testing
