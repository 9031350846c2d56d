// End to end: what makes the agent worth running all day (issue "Sessions for IDEs and
// shells"): the watch stream, token hand-out, refresh over expiries, revocation that is never
// lost, socket activation and the idle exit.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/common/json.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "proto/datagen/agent/v1/agent.pb.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The value of `field` in the credentials file, e.g. the token.
std::string FileField(const E2eEnv& env, const std::string& field) {
  agent::v1::Credentials credentials;
  if (!ParseJson(ReadFile(env.credentials_path()), "file", &credentials).ok()) return "";
  const auto* descriptor = credentials.GetDescriptor()->FindFieldByName(field);
  return credentials.GetReflection()->GetString(credentials, descriptor);
}

TEST(E2eSession, AWatcherSeesLoginOrgSwitchAHandEditAndLogoutInOrder) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config", "interval=1&auto_approve_after=0"), 200);
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);  // the agent is up
  Child watch = env.StartDatagen({"auth", "status", "--watch", "--format", "json"}, "watch");
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_INITIAL"));

  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  env.AddSecret(FileField(env, "token"));
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  std::string file = ReadFile(env.credentials_path());
  WriteFile(env.credentials_path(), absl::StrReplaceAll(file, {{"test-org", "yourcompany"}}));
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_FILE_CHANGED"));
  ASSERT_EQ(env.Datagen({"auth", "logout"}).exit_code, 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "SESSION_CHANGE_REVOCATIONS"));
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(), 130);

  std::vector<std::string> changes;
  std::vector<int64_t> generations;
  std::vector<std::string> orgs;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(env.dir() + "/watch.out"), '\n', absl::SkipEmpty())) {
    agent::v1::WatchEvent event;
    ASSERT_TRUE(ParseJson(line, "event", &event).ok()) << line;
    changes.push_back(agent::v1::SessionChange_Name(event.change()));
    generations.push_back(static_cast<int64_t>(event.generation()));
    orgs.push_back(event.session().active_org_slug());
  }
  EXPECT_THAT(changes, ElementsAre("SESSION_CHANGE_INITIAL", "SESSION_CHANGE_LOGIN_PENDING",
                                   "SESSION_CHANGE_SIGNED_IN", "SESSION_CHANGE_ORG_SWITCHED",
                                   "SESSION_CHANGE_FILE_CHANGED", "SESSION_CHANGE_SIGNED_OUT",
                                   "SESSION_CHANGE_REVOCATIONS"));
  for (size_t i = 1; i < generations.size(); ++i) {
    EXPECT_EQ(generations[i], generations[i - 1] + 1) << "no event missed";
  }
  EXPECT_THAT(orgs, ElementsAre("", "", "yourcompany", "test-org", "yourcompany", "", ""));
}

// Issue 23: a hand edit is one change with the file's final content, however slow the editor:
// here it truncates, writes half, and a command asks the agent in the middle; the agent keeps
// the session as it was (nothing quarantined, no event) until the writer closes the file.
TEST(E2eSession, AnEditorThatTruncatesThenWritesIsOneChange) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  Child watch = env.StartDatagen({"auth", "status", "--watch"}, "watch");
  ASSERT_TRUE(env.AwaitOutput("watch", "change=initial"));
  std::string edited = absl::StrReplaceAll(
      ReadFile(env.credentials_path()),
      {{"\"active_org_slug\": \"yourcompany\"", "\"active_org_slug\": \"test-org\""}});
  ASSERT_THAT(edited, HasSubstr("test-org"));
  int editor = open(env.credentials_path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(editor, 0);
  const size_t half = edited.size() / 2;
  ASSERT_EQ(write(editor, edited.data(), half), static_cast<ssize_t>(half));
  RunResult during = env.Datagen({"auth", "status"});
  EXPECT_EQ(during.exit_code, 0) << during.err;
  EXPECT_THAT(during.out, HasSubstr("active_org_slug: yourcompany")) << "the session as it was";
  ASSERT_EQ(write(editor, edited.data() + half, edited.size() - half),
            static_cast<ssize_t>(edited.size() - half));
  close(editor);
  ASSERT_TRUE(env.AwaitOutput("watch", "change=file_changed"));
  RunResult after = env.Datagen({"auth", "status"});
  EXPECT_THAT(after.out, HasSubstr("active_org_slug: test-org"));
  watch.Signal(SIGINT);
  watch.Wait();
  std::string lines = ReadFile(env.dir() + "/watch.out");
  EXPECT_EQ(lines.find("change=file_changed"), lines.rfind("change=file_changed")) << lines;
  EXPECT_THAT(lines, HasSubstr("change=file_changed state=signed_in email=you@yourcompany.com "
                               "active_org_slug=test-org\n"));
  EXPECT_THAT(ReadFile(env.credentials_path()), HasSubstr("test-org")) << "nothing moved aside";
}

TEST(E2eSession, TextWatchIsOneLinePerChange) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  Child watch = env.StartDatagen({"auth", "status", "--watch"}, "watch");
  ASSERT_TRUE(env.AwaitOutput("watch", "change=initial"));
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "change=org_switched"));
  watch.Signal(SIGINT);
  watch.Wait();
  EXPECT_EQ(ReadFile(env.dir() + "/watch.out"),
            "generation=0 change=initial state=signed_in email=you@yourcompany.com "
            "active_org_slug=yourcompany\n"
            "generation=1 change=org_switched state=signed_in email=you@yourcompany.com "
            "active_org_slug=test-org\n");
}

// Issue 22, bug 5: a status bar built on the watch must not lose its feed. After kill -9 the
// watch starts a new agent (as any command would) and shows its first event as agent_replaced;
// after `agent stop` it waits, starting none (a stop stays a stop), and follows the agent that
// `agent start` brings.
TEST(E2eSession, TheWatchFollowsTheSessionAcrossACrashAStopAndAStart) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  Child watch = env.StartDatagen({"auth", "status", "--watch"}, "watch");
  ASSERT_TRUE(env.AwaitOutput("watch", "change=initial"));
  pid_t first = env.AgentPid();
  ASSERT_GT(first, 0);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "change=agent_replaced"));
  pid_t second = env.AgentPid();
  EXPECT_GT(second, 0);
  EXPECT_NE(second, first);
  EXPECT_THAT(ReadFile(env.dir() + "/watch.err"), HasSubstr("warning: the agent went away ("));
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "change=org_switched"));

  ASSERT_EQ(env.Datagen({"auth", "agent", "stop"}).exit_code, 0);
  ASSERT_TRUE(env.AwaitOutput("watch", "change=agent_stopping"));
  // The watch says what it decided once the stream has ended: to wait, starting none.
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(ReadFile(env.dir() + "/watch.err"),
                             "note: the agent stopped; waiting for one to start");
  })) << ReadFile(env.dir() + "/watch.err");
  // The stopped agent may still be exiting (its stream ends first); once it is gone, no other
  // may have taken its place.
  ASSERT_TRUE(AwaitGone(second)) << "the stopped agent did not exit";
  EXPECT_EQ(env.AgentPid(), -1) << "the watch started an agent after a stop";
  ASSERT_EQ(env.Datagen({"auth", "agent", "start"}).exit_code, 0);
  ASSERT_TRUE(env.AwaitOutput("watch",
                              "change=agent_replaced state=signed_in "
                              "email=you@yourcompany.com active_org_slug=test-org"));
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(), 130);
  std::string lines = ReadFile(env.dir() + "/watch.out");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 5) << lines;
}

// A watch that now outlives its agent must not outlive its reader: `status --watch | head -n 1`
// ends at its first write after head is gone (exit 141, as SIGPIPE would). Events are made until
// the watch is gone (a write that lands in the pipe before head has quite exited is not one).
TEST(E2eSession, TheWatchEndsWhenItsReaderIsGone) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  const std::string first = env.dir() + "/first.out", pid = env.dir() + "/watch.pid";
  RunResult r = env.RunCommand(
      {"/bin/sh", "-c",
       "{ \"$1\" auth status --watch 2>/dev/null & echo $! >\"$3\"; wait; } | head -n 1 >\"$2\" & "
       "for i in $(seq 400); do [ -s \"$2\" ] && break; sleep 0.05; done; "
       "w=$(cat \"$3\"); "
       "for i in $(seq 100); do kill -0 \"$w\" 2>/dev/null || break; "
       "\"$1\" auth org --use test-org >/dev/null; \"$1\" auth org --use yourcompany >/dev/null; "
       "done; "
       "kill -0 \"$w\" 2>/dev/null && { kill \"$w\"; echo still watching; } || echo ended",
       "-", E2eEnv::DatagenBinary(), first, pid});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ended\n");
  EXPECT_THAT(ReadFile(first), HasSubstr("change=initial"));
}

TEST(E2eSession, StatusKeepsAnsweringOverSeveralExpiriesAndTheTokenRotates) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config",
                          "interval=1&auto_approve_after=0&token_expires_in=3&refresh=1"),
            200);
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  std::set<std::string> tokens, refresh_tokens;
  int calls = 0, failures = 0;
  // Status is asked again and again until four tokens were seen (four 3-second lifetimes,
  // three expiries); every answer must be a good one.
  const bool rotated = WaitUntil(
      [&] {
        RunResult r = env.Datagen({"auth", "status"});
        ++calls;
        if (r.exit_code != 0 || !absl::StrContains(r.out, "role: admin")) {
          if (failures++ == 0) ADD_FAILURE() << "call " << calls << ": " << r.out << r.err;
        }
        tokens.insert(FileField(env, "token"));
        refresh_tokens.insert(FileField(env, "refresh_token"));
        return tokens.size() >= 4 && refresh_tokens.size() >= 4;
      },
      absl::Seconds(40));
  for (const auto& t : tokens) env.AddSecret(t);
  for (const auto& t : refresh_tokens) env.AddSecret(t);
  EXPECT_EQ(failures, 0) << "of " << calls << " calls";
  EXPECT_TRUE(rotated) << tokens.size() << " tokens seen over 40 s of 3-second tokens";
  EXPECT_GE(refresh_tokens.size(), 4u) << "each refresh rotates the refresh token";
  EXPECT_THAT(env.AgentLog(), HasSubstr("access token refreshed"));
}

TEST(E2eSession, TokenPrintsTheCurrentAccessTokenOnly) {
  E2eEnv env;
  std::string token = env.MintToken();
  EXPECT_EQ(env.Datagen({"auth", "token"}).exit_code, 4);
  env.WriteCredentials(token);
  // Not through env.RunCommand: its transcript is checked for tokens, and printing this one is
  // the point of the command.
  RunResult r = RunProcess({E2eEnv::DatagenBinary(), "auth", "token"}, env.Env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, token + "\n");
  // The token is meant to be printed here; nothing else may print it.
  RunResult status = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_THAT(status.out, Not(HasSubstr(token)));
}

TEST(E2eSession, LogoutWithTheServerDownRevokesOnceItIsBack) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  ASSERT_EQ(env.AdminPost("/_admin/fault", "down=1"), 200);
  RunResult r = env.Datagen({"auth", "logout"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "status: logged_out\n");
  EXPECT_THAT(r.err, HasSubstr("NOT revoked"));
  EXPECT_THAT(r.err, HasSubstr("the agent keeps retrying"));
  struct stat st;
  EXPECT_NE(stat(env.credentials_path().c_str(), &st), 0) << "deleted at once";
  std::string pending = env.dir() + "/cfg/datagen/pending-revocations.json";
  ASSERT_EQ(stat(pending.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("1 token(s) of an ended session still await revocation"));
  EXPECT_TRUE(env.TokenActive(token));

  ASSERT_EQ(env.AdminPost("/_admin/fault", "down=0"), 200);
  EXPECT_TRUE(WaitUntil([&] { return !env.TokenActive(token); }, absl::Seconds(20)))
      << "the agent retries the revocation until the server accepts it";
  EXPECT_TRUE(WaitUntil([&] { return stat(pending.c_str(), &st) != 0; }, absl::Seconds(5)));
  r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.err, "error: not signed in\nrun: datagen auth login\n");
}

// Runs `agent_argv` as systemd would under socket activation (systemd-socket-activate holds
// env's socket and starts it on the first connection), with the unit's environment: env's
// variables except those `drop` names. Returns once the socket exists.
Child SocketActivated(E2eEnv& env, const std::vector<std::string>& agent_argv,
                      const std::string& drop = "") {
  mkdir(env.socket_dir().c_str(), 0700);
  std::vector<std::string> argv = {"/usr/bin/systemd-socket-activate", "-l", env.socket_path()};
  for (const std::string& var : env.Env()) {
    if (drop.empty() || var.rfind(drop + "=", 0) != 0) argv.push_back("--setenv=" + var);
  }
  argv.insert(argv.end(), agent_argv.begin(), agent_argv.end());
  Child activator(argv, env.Env(), env.dir() + "/activate.out", env.dir() + "/activate.err");
  struct stat st;
  EXPECT_TRUE(
      WaitUntil([&] { return stat(env.socket_path().c_str(), &st) == 0; }, absl::Seconds(10)));
  return activator;
}

TEST(E2eSession, ASocketActivatedAgentServesTheCliAndExitsWhenIdle) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  // As a systemd user unit would run it: the manager gives it the session's variables.
  Child activator = SocketActivated(env, {E2eEnv::AgentBinary(), "--idle_exit=2s"});
  struct stat st;
  RunResult r = env.Datagen({"auth", "status", "--no-autostart"});
  EXPECT_EQ(r.exit_code, 0) << r.err << ReadFile(env.dir() + "/activate.err");
  EXPECT_THAT(r.out, HasSubstr("role: admin"));
  EXPECT_EQ(activator.Wait(absl::Seconds(10)), 0) << "exits after 2 s idle";
  std::string log = ReadFile(env.dir() + "/activate.err");
  EXPECT_THAT(log, HasSubstr("serving the socket passed by systemd"));
  EXPECT_THAT(log, HasSubstr("idle for 2s; exiting"));
  EXPECT_EQ(stat(env.socket_path().c_str(), &st), 0) << "systemd's socket is left in place";
}

TEST(E2eSession, ASocketActivatedAgentServesWhereSystemdsSocketIsWhateverItsEnvironment) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  // A unit whose environment lacks the XDG variables: the agent would compute
  // /tmp/datagen-<uid>/agent.sock; the socket systemd passed is the truth.
  Child activator =
      SocketActivated(env, {E2eEnv::AgentBinary(), "--idle_exit=2s"}, "XDG_RUNTIME_DIR");
  struct stat st;
  RunResult r = env.Datagen({"auth", "status", "--no-autostart"});
  EXPECT_EQ(r.exit_code, 0) << r.err << ReadFile(env.dir() + "/activate.err");
  EXPECT_EQ(activator.Wait(absl::Seconds(10)), 0);
  std::string log = ReadFile(env.dir() + "/activate.err");
  EXPECT_THAT(log, HasSubstr("listening on " + env.socket_path()));
  EXPECT_EQ(stat((env.socket_path() + ".lock").c_str(), &st), 0) << "the lock is beside it";
}

// The systemd user units as shipped: `systemd-analyze --user verify` accepts them with the agent
// installed where ExecStart says, and that exact ExecStart line (with %h expanded) serves the
// CLI under socket activation, on a fresh account (no ~/.config/datagen yet).
TEST(E2eSession, TheSystemdUnitsVerifyAndTheirExecStartServesUnderSocketActivation) {
  E2eEnv env;
  std::string home = env.dir() + "/home";
  std::string units = env.dir() + "/units";
  ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", home + "/.local/bin", units}, {}).exit_code, 0);
  ASSERT_EQ(RunProcess({"/bin/cp", E2eEnv::AgentBinary(), E2eEnv::AgentBinary() + "-http",
                        home + "/.local/bin/"},
                       {})
                .exit_code,
            0);
  for (const char* unit : {"datagen-agent.service", "datagen-agent.socket"}) {
    WriteFile(units + "/" + unit, ReadFile(Runfile(std::string("tools/systemd/") + unit)), 0644);
  }
  mkdir(env.socket_dir().c_str(), 0700);
  RunResult verify =
      RunProcess({"/usr/bin/systemd-analyze", "--user", "verify", units + "/datagen-agent.socket",
                  units + "/datagen-agent.service"},
                 {"HOME=" + home, "XDG_RUNTIME_DIR=" + env.dir() + "/run", "PATH=/usr/bin:/bin"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  std::string exec_start;
  for (absl::string_view line : absl::StrSplit(ReadFile(units + "/datagen-agent.service"), '\n')) {
    if (absl::ConsumePrefix(&line, "ExecStart=")) exec_start = std::string(line);
  }
  ASSERT_FALSE(exec_start.empty());
  std::vector<std::string> agent_argv;
  for (absl::string_view word : absl::StrSplit(exec_start, ' ', absl::SkipEmpty())) {
    agent_argv.push_back(absl::StrReplaceAll(word, {{"%h", home}}));
  }
  Child activator = SocketActivated(env, agent_argv);
  RunResult r = env.Datagen({"auth", "status", "--no-autostart"});
  EXPECT_EQ(r.exit_code, 4) << r.err << ReadFile(env.dir() + "/activate.err");
  EXPECT_EQ(r.err, "error: not signed in\nrun: datagen auth login\n");
  activator.Signal(SIGTERM);
  activator.Wait(absl::Seconds(10));
}

}  // namespace
}  // namespace datagen::testing
