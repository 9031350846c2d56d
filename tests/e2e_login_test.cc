// End to end: `datagen auth login` with the real binaries against the fake identity server, for
// every branch of the device flow that can be seen from outside (docs/identity-server.md, the
// device flow, docs/cli.md).
#include <signal.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/common/paths.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;

std::string EscapeForShell(const std::string& path) { return "'" + path + "'"; }

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// A fresh world whose fake server polls every second.
class Login : public ::testing::Test {
 protected:
  void SetUp() override { Config("interval=1"); }
  void Config(const std::string& form) { ASSERT_EQ(env_.AdminPost("/_admin/config", form), 200); }
  void Fault(const std::string& form) { ASSERT_EQ(env_.AdminPost("/_admin/fault", form), 200); }
  // The gaps between consecutive polls of the only grant, in ms.
  std::vector<int64_t> Gaps() {
    std::vector<int64_t> gaps;
    auto grants = env_.Grants();
    if (grants.size() != 1) return gaps;
    for (size_t i = 1; i < grants[0].poll_ms.size(); ++i) {
      gaps.push_back(grants[0].poll_ms[i] - grants[0].poll_ms[i - 1]);
    }
    return gaps;
  }
  // How many polls the grant of `user_code` has had (-1: no such grant).
  int PollsOf(const std::string& user_code) {
    for (const auto& grant : env_.Grants()) {
      if (grant.user_code == user_code) return static_cast<int>(grant.poll_ms.size());
    }
    return -1;
  }
  // The polls of a grant other than `user_code` (-1: none yet).
  int PollsOfAnotherThan(const std::string& user_code) {
    for (const auto& grant : env_.Grants()) {
      if (grant.user_code != user_code) return static_cast<int>(grant.poll_ms.size());
    }
    return -1;
  }
  void ExpectNoPollTooFast() {
    for (const auto& grant : env_.Grants()) EXPECT_EQ(grant.too_fast, 0) << grant.user_code;
  }
  void ExpectNothingStoredAndAgentAlive() {
    EXPECT_FALSE(Exists(env_.credentials_path()));
    RunResult status = env_.Datagen({"auth", "status", "--no-autostart"});
    EXPECT_EQ(status.exit_code, 4) << "the agent must still answer: " << status.err;
  }

  E2eEnv env_;
};

TEST_F(Login, PrintsTheDocumentedOutputAndStoresTheSession) {
  Config("auto_approve_after=1");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("User code: [B-Z]{4}-[B-Z]{4}\n"
                                  "Verify at: http://127\\.0\\.0\\.1:[0-9]+/device\n"
                                  "status: authenticated\n"
                                  "email: you@yourcompany.com\n"
                                  "active_org_slug: yourcompany\n"));
  // No spinner when stderr is not a terminal: only the one line that says which machine asked
  // (issue 21: a person confirms the code only if they started the login there).
  EXPECT_THAT(r.err, MatchesRegex("note: this code signs in datagen on [^\n]+; confirm it only if "
                                  "you started this login there\n"));
  struct stat st;
  ASSERT_EQ(stat(env_.credentials_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string file = ReadFile(env_.credentials_path());
  EXPECT_THAT(file, HasSubstr("\"email\": \"you@yourcompany.com\""));
  EXPECT_THAT(file, HasSubstr("\"stored_at\": \"20"));
  EXPECT_THAT(file, HasSubstr("\"api_url\": \"" + env_.api_url() + "\""));
  std::vector<std::string> parts = absl::StrSplit(file, '"');
  for (size_t i = 0; i + 2 < parts.size(); ++i) {
    if (parts[i] == "token") env_.AddSecret(parts[i + 2]);
  }
  RunResult status = env_.Datagen({"auth", "status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.out, HasSubstr("role: admin"));
  ExpectNoPollTooFast();
}

TEST_F(Login, JsonLinesCodeFirstResultLast) {
  Config("auto_approve_after=1");
  RunResult r = env_.Datagen({"auth", "login", "--format", "json", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_THAT(lines[0], ContainsRegex("^\\{\"user_code\":\"[B-Z-]+\",\"verification_uri\":"));
  EXPECT_THAT(lines[0], HasSubstr("\"verification_uri_complete\":\"http://127.0.0.1"));
  EXPECT_THAT(lines[0], ContainsRegex("\"expires_in\":(599|600),"));
  EXPECT_EQ(lines[1],
            "{\"status\":\"authenticated\",\"email\":\"you@yourcompany.com\","
            "\"active_org_slug\":\"yourcompany\"}");
}

TEST_F(Login, OpensBrowserWithTheCompleteUrlAndAPersonConfirms) {
  // A "browser" that records the URL it was given, then confirms the code on the /device page
  // as a person would (a real browser does the same in browser_test).
  std::string script = env_.dir() + "/browser.sh";
  WriteFile(script,
            "#!/bin/sh\n"
            "echo \"$1\" > " +
                env_.dir() +
                "/opened\n"
                "code=${1##*user_code=}\n"
                "curl -sf -o /dev/null -d user_code=$code -d action=confirm " +
                env_.api_url() + "/device\n",
            0700);
  RunResult r = env_.Datagen({"auth", "login"}, {"BROWSER=" + script});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string opened(absl::StripAsciiWhitespace(ReadFile(env_.dir() + "/opened")));
  EXPECT_THAT(opened, MatchesRegex("http://127\\.0\\.0\\.1:[0-9]+/device\\?user_code=[B-Z-]+"));
  EXPECT_THAT(r.out, HasSubstr("\nOpening: " + opened + "\nstatus: authenticated\n"));
}

TEST_F(Login, NoBrowserWithoutADisplayOrWithNoBrowserButTheCodeIsAlwaysPrinted) {
  Config("auto_approve_after=1");
  // xdg-open would be used with a display: a stub on PATH records that it was called.
  std::string bin = env_.dir() + "/bin";
  mkdir(bin.c_str(), 0700);
  std::string marker = env_.dir() + "/opened";
  WriteFile(bin + "/xdg-open", "#!/bin/sh\necho \"$1\" >> " + marker + "\n", 0700);
  std::string path = "PATH=" + bin + ":" + Dirname(E2eEnv::AgentBinary()) + ":/usr/bin:/bin";

  RunResult r = env_.Datagen({"auth", "login"}, {path});  // no DISPLAY, no BROWSER
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("Opening:")));
  EXPECT_THAT(r.out, HasSubstr("Verify at: "));
  EXPECT_FALSE(Exists(marker));

  r = env_.Datagen({"auth", "login", "--no-browser"}, {path, "DISPLAY=:99", "BROWSER=xdg-open"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("Opening:")));
  EXPECT_FALSE(Exists(marker));

  r = env_.Datagen({"auth", "login"}, {path, "DISPLAY=:99"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Opening: "));
  EXPECT_THAT(ReadFile(marker), HasSubstr("/device?user_code="));
}

TEST_F(Login, AFailingBrowserIsAWarningNotAnError) {
  Config("auto_approve_after=1");
  RunResult r = env_.Datagen({"auth", "login"}, {"BROWSER=/nonexistent/browser"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: could not open a browser"));
  EXPECT_THAT(r.out, Not(HasSubstr("Opening:")));
  EXPECT_THAT(r.out, HasSubstr("status: authenticated"));
}

TEST_F(Login, DenialExits1AndStoresNothing) {
  Child login = env_.StartDatagen({"auth", "login", "--no-browser"}, "login");
  std::string code = env_.AwaitGrant();
  ASSERT_FALSE(code.empty());
  ASSERT_EQ(env_.AdminPost("/_admin/deny", "user_code=" + code), 200);
  EXPECT_EQ(login.Wait(absl::Seconds(20)), 1);
  EXPECT_THAT(env_.Output("login"), HasSubstr("error: the login was denied in the browser"));
  ExpectNothingStoredAndAgentAlive();
}

TEST_F(Login, TimesOutWithinExpiresIn) {
  Config("device_expires_in=3");
  absl::Time start = absl::Now();
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("timed out"));
  EXPECT_THAT(r.err, HasSubstr("run: datagen auth login (for a new code)"));
  EXPECT_GE(took, absl::Seconds(3));
  EXPECT_LT(took, absl::Seconds(6));
  ExpectNothingStoredAndAgentAlive();
}

TEST_F(Login, ExpiredTokenFromTheServerExits1) {
  Fault("token=expire");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("the code expired before it was approved"));
  ExpectNothingStoredAndAgentAlive();
}

TEST_F(Login, AnUnknownServerErrorEndsTheLoginWithItsMessage) {
  Fault("token=invalid_grant");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("invalid_grant: the grant is broken on purpose"));
  ExpectNothingStoredAndAgentAlive();
}

TEST_F(Login, SlowDownAddsFiveSecondsToEveryLaterPoll) {
  Config("auto_approve_after=2");
  Fault("token=slow_down");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> gaps = Gaps();
  ASSERT_EQ(gaps.size(), 1u);  // slow_down at 1 s, approved at 7 s
  EXPECT_GE(gaps[0], 6000);
  EXPECT_LT(gaps[0], 7000);
  ExpectNoPollTooFast();
}

TEST_F(Login, RetryAfterSecondsAndDatesAreHonoured) {
  Config("auto_approve_after=0");
  Fault("token=429:1:3");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> gaps = Gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_GE(gaps[0], 3000);
  EXPECT_LT(gaps[0], 4500);
}

TEST_F(Login, RetryAfterAsAnHttpDate) {
  Config("auto_approve_after=0");
  Fault("token=429date:1:3");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> gaps = Gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_GE(gaps[0], 1900);  // an HTTP date has whole seconds
  EXPECT_LT(gaps[0], 4500);
}

TEST_F(Login, ServerErrorsDroppedConnectionsAndUnreadableRepliesAreRetriedWithBackoff) {
  Config("auto_approve_after=0");
  Fault("token=500&token=drop&token=garbage400");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> gaps = Gaps();
  ASSERT_EQ(gaps.size(), 3u);
  // Full jitter (issue 21): each wait a random share of 2, 4, 8 x the interval, never under
  // the interval itself.
  for (size_t i = 0; i < gaps.size(); ++i) {
    EXPECT_GE(gaps[i], 950) << "poll " << i << " came faster than the interval";
    EXPECT_LE(gaps[i], (2000 << i) + 1500) << "poll " << i << " waited past its backoff";
  }
  ExpectNoPollTooFast();
  EXPECT_THAT(env_.AgentLog(), HasSubstr("poll failed"));
}

// Issue 22, bug 9: a captive portal's page (200, HTML) and a 200 too large to be a token reply
// are retried like any transient failure: the login goes on and succeeds once the server answers.
TEST_F(Login, APortalsPageAndAnOversizedSuccessAreRetried) {
  Config("auto_approve_after=0");
  Fault("token=garbage&token=oversized");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("status: authenticated"));
  EXPECT_THAT(env_.AgentLog(), HasSubstr("captive portal"));
  EXPECT_THAT(env_.AgentLog(), Not(HasSubstr("Gateway says hello")));
}

TEST_F(Login, APortalUntilTheCodeExpiresEndsTheLoginSayingSo) {
  Config("device_expires_in=4");
  Fault("token=garbage:100");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("timed out"));
  EXPECT_THAT(r.err, HasSubstr("captive portal"));
  ExpectNothingStoredAndAgentAlive();
}

TEST_F(Login, OversizedErrorRepliesAreRetriedAndTheLoginEndsAtExpiry) {
  Config("device_expires_in=4");
  Fault("token=oversized500:100");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("timed out"));
  EXPECT_THAT(env_.AgentLog(), HasSubstr("larger than 1048576 bytes"));
  ExpectNothingStoredAndAgentAlive();
}

TEST_F(Login, AHangingServerNeverBlocksStatus) {
  env_.WriteCredentials(env_.MintToken());
  Config("device_expires_in=6");
  Fault("token=hang:100:30");
  Child login = env_.StartDatagen({"auth", "login", "--no-browser"}, "login");
  ASSERT_TRUE(env_.AwaitOutput("login", "User code:"));
  // The server records a poll as it arrives: from then on it hangs.
  const std::string code = env_.AwaitGrant();
  ASSERT_TRUE(WaitUntil([&] { return PollsOf(code) >= 1; }));
  for (int i = 0; i < 3; ++i) {
    absl::Time start = absl::Now();
    RunResult status = env_.Datagen({"auth", "status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_LT(absl::Now() - start, absl::Seconds(1)) << "status waited for the login";
  }
  EXPECT_EQ(login.Wait(absl::Seconds(20)), 1);
  EXPECT_THAT(env_.Output("login"), HasSubstr("timed out"));
}

TEST_F(Login, ConcurrentLoginsShareOneCodeAndOneResult) {
  Child first = env_.StartDatagen({"auth", "login", "--no-browser"}, "first");
  ASSERT_TRUE(env_.AwaitOutput("first", "User code:"));
  Child second = env_.StartDatagen({"auth", "login", "--no-browser"}, "second");
  ASSERT_TRUE(env_.AwaitOutput("second", "User code:"));
  std::string code = env_.AwaitGrant();
  ASSERT_EQ(env_.AdminPost("/_admin/approve", "user_code=" + code), 200);
  EXPECT_EQ(first.Wait(absl::Seconds(20)), 0);
  EXPECT_EQ(second.Wait(absl::Seconds(20)), 0);
  EXPECT_EQ(env_.Output("first"), env_.Output("second"));
  EXPECT_THAT(env_.Output("first"), HasSubstr("User code: " + code + "\n"));
  EXPECT_THAT(env_.Output("first"), HasSubstr("status: authenticated"));
  EXPECT_EQ(env_.Grants().size(), 1u) << "one device flow for both";
}

TEST_F(Login, CtrlCExits130AtOnceAndTheAbandonedLoginIsCancelled) {
  Child login = env_.StartDatagen({"auth", "login", "--no-browser"}, "login");
  ASSERT_TRUE(env_.AwaitOutput("login", "User code:"));
  const std::string code = env_.AwaitGrant();
  ASSERT_TRUE(WaitUntil([&] { return PollsOf(code) >= 1; })) << "the flow is polling";
  absl::Time start = absl::Now();
  login.Signal(SIGINT);
  EXPECT_EQ(login.Wait(absl::Seconds(5)), 130);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  // Counted once the flow has ended: a poll sent just before the cancel may reach the server
  // just after the "cancelling" line.
  WaitUntil([&] { return env_.AgentLog().find("login: ended") != std::string::npos; });
  EXPECT_THAT(env_.AgentLog(), HasSubstr("every caller went away; cancelling it"));
  EXPECT_THAT(env_.AgentLog(), HasSubstr("login: ended: the login was cancelled"));
  const int polls = PollsOf(code);
  EXPECT_EQ(env_.Datagen({"auth", "status"}).exit_code, 4);
  // No more polls after the cancel: measured against a second login's flow, which polls at the
  // same interval on the same agent; by its second poll the first flow would have polled again.
  Child next = env_.StartDatagen({"auth", "login", "--no-browser"}, "next");
  ASSERT_TRUE(env_.AwaitOutput("next", "User code:"));
  ASSERT_TRUE(WaitUntil([&] { return PollsOfAnotherThan(code) >= 2; }, absl::Seconds(20)));
  EXPECT_EQ(PollsOf(code), polls) << "no more polls after the cancel";
  next.Signal(SIGINT);
  EXPECT_EQ(next.Wait(absl::Seconds(5)), 130);
}

TEST_F(Login, CtrlCOfOneCallerLeavesTheOtherWaiting) {
  Child leaving = env_.StartDatagen({"auth", "login", "--no-browser"}, "leaving");
  ASSERT_TRUE(env_.AwaitOutput("leaving", "User code:"));
  Child staying = env_.StartDatagen({"auth", "login", "--no-browser"}, "staying");
  ASSERT_TRUE(env_.AwaitOutput("staying", "User code:"));
  leaving.Signal(SIGINT);
  EXPECT_EQ(leaving.Wait(), 130);
  ASSERT_EQ(env_.AdminPost("/_admin/approve", "user_code=" + env_.AwaitGrant()), 200);
  EXPECT_EQ(staying.Wait(absl::Seconds(20)), 0);
  EXPECT_THAT(env_.Output("staying"), HasSubstr("status: authenticated"));
}

TEST_F(Login, LoggingInWhileSignedInStoresTheNewTokenThenRevokesTheOld) {
  std::string old = env_.MintToken();
  env_.WriteCredentials(old);
  Config("auto_approve_after=0");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(ReadFile(env_.credentials_path()), Not(HasSubstr(old)));
  // The old session goes through the revocation queue, which the agent works at once, after
  // the login has answered (the client does not wait for it).
  EXPECT_TRUE(WaitUntil([&] { return !env_.TokenActive(old); }))
      << "the replaced token was never revoked";
  EXPECT_EQ(env_.Datagen({"auth", "status"}).exit_code, 0);
}

TEST_F(Login, FormEncodedTokenRepliesAreAccepted) {
  Config("auto_approve_after=0&form_replies=1");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(env_.Datagen({"auth", "status"}).exit_code, 0);
}

TEST_F(Login, WithoutAnIntervalTheClientWaitsFiveSeconds) {
  Config("interval=-1&auto_approve_after=0");
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto grants = env_.Grants();
  ASSERT_EQ(grants.size(), 1u);
  ASSERT_EQ(grants[0].poll_ms.size(), 1u);
  EXPECT_GE(grants[0].poll_ms[0], 5000);
}

TEST_F(Login, ServerDownIsAClearError) {
  env_.StopServer();
  RunResult r = env_.Datagen({"auth", "login", "--no-browser"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("could not reach 127.0.0.1"));
}

TEST_F(Login, ASpinnerWithTheTimeLeftOnlyOnATerminal) {
  Config("auto_approve_after=2");
  // `script` runs the command on a pseudo-terminal.
  std::string command = EscapeForShell(E2eEnv::DatagenBinary()) + " auth login --no-browser";
  RunResult r = env_.RunCommand({"/usr/bin/script", "-qfec", command, "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Waiting for approval in the browser"));
  EXPECT_THAT(r.out, ContainsRegex("[0-9]+:[0-5][0-9] left"));
  EXPECT_THAT(r.out, HasSubstr("\r\033[Kstatus: authenticated"));
}

}  // namespace
}  // namespace datagen::testing
