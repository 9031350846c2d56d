// Trust boundaries (issue 10): the CLI proves whom it talks to before it sends a byte.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/datagen/agent/v1/agent.pb.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kAttacker = 65534;

// A stranger (uid kAttacker) listening on `socket_path`, recording what it receives.
class StrangersListener {
 public:
  // `script_dir`: a folder the stranger can read (the runfiles tree may not be).
  StrangersListener(const std::string& socket_path, const std::string& record,
                    const std::string& script_dir)
      : record_(record) {
    std::string script = script_dir + "/listener.py";
    WriteFile(script, ReadFile(Runfile("tests/testing/listener.py")), 0644);
    child_ = Child({"/usr/bin/setpriv", "--reuid=" + std::to_string(kAttacker),
                    "--regid=" + std::to_string(kAttacker), "--clear-groups", "/usr/bin/python3",
                    script, socket_path, record},
                   {"PATH=/usr/bin:/bin"}, "/dev/null", "/dev/null");
    WaitUntil([&] { return !ReadFile(record).empty(); });
  }
  ~StrangersListener() {
    child_.Signal(SIGKILL);
    child_.Wait();
  }
  bool listening() { return !ReadFile(record_).empty(); }
  // "<connections> <bytes>", once the listener has accepted at least `connections` and every
  // connection it accepted has ended (it saw its peer close, or gave up): no byte is on its way.
  std::string Received(int connections = 0) {
    std::vector<std::string> fields;
    WaitUntil([&] {
      fields = absl::StrSplit(absl::StripAsciiWhitespace(ReadFile(record_)), ' ');
      int accepted = 0;
      return fields.size() == 3 && absl::SimpleAtoi(fields[0], &accepted) &&
             accepted >= connections && fields[0] == fields[2];
    });
    if (fields.size() != 3) return "unreadable record";
    return absl::StrCat(fields[0], " ", fields[1]);
  }

 private:
  std::string record_;
  Child child_;
};

// A copy of `datagen` that any uid may run.
std::string SharedClient(const E2eEnv& env) {
  std::string client = env.dir() + "/datagen";
  if (!std::filesystem::exists(client)) {
    std::filesystem::copy_file(E2eEnv::DatagenBinary(), client);
    chmod(client.c_str(), 0755);
    chmod(env.dir().c_str(), 0711);
  }
  return client;
}

// Without XDG_RUNTIME_DIR (ssh without logind, cron) the socket is /tmp/datagen-<uid>/, which
// anyone can create first. The victim is a uid of its own, so that the test owns that folder.
TEST(E2eTrust, AnAttackerOwnedFallbackFolderReceivesNothing) {
  E2eEnv env;
  const int victim = 60000 + getpid() % 5000;
  const std::string folder = absl::StrCat("/tmp/datagen-", victim);
  std::filesystem::remove_all(folder);
  ASSERT_EQ(mkdir(folder.c_str(), 0777), 0);
  chmod(folder.c_str(), 0777);
  ASSERT_EQ(chown(folder.c_str(), kAttacker, kAttacker), 0);
  const std::string record = folder + "/record";
  chmod(env.dir().c_str(), 0711);
  StrangersListener listener(folder + "/agent.sock", record, folder);
  ASSERT_TRUE(listener.listening());
  std::string home = env.dir() + "/victim-home";
  std::filesystem::create_directories(home);
  ASSERT_EQ(chown(home.c_str(), victim, victim), 0);
  std::vector<std::string> victim_env = {"PATH=/usr/bin:/bin", "HOME=" + home,
                                         "DATAGEN_API_URL=" + env.api_url()};
  for (std::vector<std::string> args : {std::vector<std::string>{"auth", "status"},
                                        {"auth", "login", "--no-browser"},
                                        {"auth", "token"},
                                        {"auth", "status", "--format", "json"}}) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(victim),
                                     "--regid=" + std::to_string(victim), "--clear-groups",
                                     SharedClient(env)};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = RunProcess(argv, victim_env, absl::Seconds(20));
    EXPECT_EQ(r.exit_code, 1) << args[1] << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("refusing to talk to the agent"));
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("its folder ", folder, " is owned by uid ", kAttacker,
                                              " with mode 0777")));
    EXPECT_THAT(r.err, HasSubstr("set XDG_RUNTIME_DIR or DATAGEN_AGENT_SOCKET"));
    EXPECT_EQ(listener.Received(), "0 0") << "the stranger's listener was contacted by " << args[1];
  }
  // Never auto-started into that folder: only the stranger's files are there.
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    entries.push_back(e.path().filename());
  }
  EXPECT_THAT(entries, ::testing::UnorderedElementsAre("agent.sock", "record", "listener.py"));
  std::filesystem::remove_all(folder);
}

TEST(E2eTrust, ASocketOwnedByAnotherUidAtDatagenAgentSocketReceivesNothing) {
  E2eEnv env;
  // The stranger's own folder (0755: not writable by others, but not the user's).
  std::string theirs = env.dir() + "/theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(chown(theirs.c_str(), kAttacker, kAttacker), 0);
  chmod(env.dir().c_str(), 0711);
  StrangersListener listener(theirs + "/agent.sock", theirs + "/record", env.dir());
  ASSERT_TRUE(listener.listening());
  RunResult r = env.Datagen({"auth", "status"}, {"DATAGEN_AGENT_SOCKET=" + theirs + "/agent.sock"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err,
              HasSubstr(absl::StrCat("its folder ", theirs, " is owned by uid ", kAttacker)));
  EXPECT_EQ(listener.Received(), "0 0");

  // The same socket moved into a folder of the user's: the socket file is the stranger's.
  std::string ours = env.dir() + "/ours";
  ASSERT_EQ(mkdir(ours.c_str(), 0700), 0);
  ASSERT_EQ(rename((theirs + "/agent.sock").c_str(), (ours + "/agent.sock").c_str()), 0);
  r = env.Datagen({"auth", "token"}, {"DATAGEN_AGENT_SOCKET=" + ours + "/agent.sock"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("it is a socket owned by uid ", kAttacker)));
  EXPECT_EQ(listener.Received(), "0 0");

  // And made to look like the user's: the peer's uid (SO_PEERCRED) gives it away. The
  // connection is made, and closed before a byte is sent.
  ASSERT_EQ(chown((ours + "/agent.sock").c_str(), getuid(), getgid()), 0);
  r = env.Datagen({"auth", "login", "--no-browser"},
                  {"DATAGEN_AGENT_SOCKET=" + ours + "/agent.sock"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err,
              HasSubstr(absl::StrCat("the process listening there runs as uid ", kAttacker)));
  // The connection was made (the CLI read the peer's uid), and closed before a byte was sent.
  std::vector<std::string> seen = absl::StrSplit(listener.Received(1), ' ');
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], "0") << "bytes reached the stranger";
}

// Like ssh-agent: no process of the same (non-root) uid can read the agent's memory or
// environment; a plain process of that uid can (the control, so that the test can fail).
TEST(E2eTrust, TheAgentsMemoryIsClosedToProcessesOfTheSameUid) {
  E2eEnv env;
  chmod(env.dir().c_str(), 0711);
  std::string home = env.dir() + "/stranger";
  for (const std::string& dir : {home, home + "/run", home + "/cfg"}) {
    ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(chown(dir.c_str(), kAttacker, kAttacker), 0);
  }
  std::string agent_binary = env.dir() + "/datagen-agent";
  std::filesystem::copy_file(E2eEnv::AgentBinary(), agent_binary);
  chmod(agent_binary.c_str(), 0755);
  // An installation: the agent runs only its own helper, beside it.
  std::string helper = env.dir() + "/datagen-agent-http";
  std::filesystem::copy_file(E2eEnv::AgentBinary() + "-http", helper);
  chmod(helper.c_str(), 0755);
  const std::vector<std::string> as_user = {
      "/usr/bin/setpriv", "--reuid=" + std::to_string(kAttacker),
      "--regid=" + std::to_string(kAttacker), "--clear-groups"};
  std::vector<std::string> argv = as_user;
  for (std::string arg :
       {agent_binary, "--socket=" + home + "/run/agent.sock",
        "--credentials=" + home + "/cfg/credentials.json", "--api-url=" + env.api_url()}) {
    argv.push_back(arg);
  }
  Child agent(argv, {"PATH=/usr/bin:/bin", "HOME=" + home, "SECRET_MARK=in-the-environ"},
              env.dir() + "/agent.out", env.dir() + "/agent.err");
  pid_t pid = -1;
  WaitUntil(
      [&] {
        return absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(home + "/run/agent.sock.lock")),
                                &pid) &&
               pid > 0;
      },
      absl::Seconds(20));
  ASSERT_GT(pid, 0) << ReadFile(env.dir() + "/agent.err");
  std::vector<std::string> sleeper = as_user;
  sleeper.push_back("/bin/sleep");
  sleeper.push_back("60");
  Child control(sleeper, {"SECRET_MARK=in-the-environ"}, "/dev/null", "/dev/null");
  // The control is read once setpriv has become sleep (its uid and environment are final then).
  ASSERT_TRUE(WaitUntil([&] {
    std::error_code error;
    std::string exe =
        std::filesystem::read_symlink(absl::StrCat("/proc/", control.pid(), "/exe"), error);
    return absl::EndsWith(exe, "/sleep");
  }));

  auto read_as_user = [&](pid_t target, const std::string& file) {
    std::vector<std::string> reader = as_user;
    for (std::string arg : {std::string("/usr/bin/python3"), std::string("-c"),
                            std::string("import sys\n"
                                        "try:\n"
                                        "  data = open(sys.argv[1], 'rb').read(4096)\n"
                                        "  print('read', len(data))\n"
                                        "except OSError as e:\n"
                                        "  print('refused', e.errno)\n"),
                            absl::StrCat("/proc/", target, "/", file)}) {
      reader.push_back(arg);
    }
    return RunProcess(reader, {"PATH=/usr/bin:/bin"}, absl::Seconds(10)).out;
  };
  EXPECT_THAT(read_as_user(control.pid(), "environ"), HasSubstr("read"));
  EXPECT_THAT(read_as_user(pid, "environ"), HasSubstr("refused"));
  EXPECT_THAT(read_as_user(pid, "mem"), HasSubstr("refused"));
  RunResult gdb_like = RunProcess(
      {as_user[0], as_user[1], as_user[2], as_user[3], "/usr/bin/python3", "-c",
       "import ctypes,sys\n"
       "libc = ctypes.CDLL(None, use_errno=True)\n"
       "print('attached' if libc.ptrace(16, int(sys.argv[1]), 0, 0) == 0 else 'refused')\n",
       std::to_string(pid)},
      {"PATH=/usr/bin:/bin"}, absl::Seconds(10));
  EXPECT_THAT(gdb_like.out, HasSubstr("refused")) << gdb_like.err;
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(absl::Seconds(10)), 0);
}

// What the fake server at `env` was asked about sessions (its request log).
int SessionRequests(const E2eEnv& env) {
  std::string log = ReadFile(env.dir() + "/server.err");
  int n = 0;
  for (const char* what : {"userinfo", "/token", "/revoke", "/me "}) {
    for (size_t at = 0; (at = log.find(what, at)) != std::string::npos; ++at) ++n;
  }
  return n;
}

// Signed in at server A, with the agent started against server B: B never receives a token,
// status answers for A and says B is configured, and logout revokes at A.
TEST(E2eTrust, ATokenGoesOnlyToTheIssuerThatIssuedIt) {
  E2eEnv a;
  E2eEnv b;
  ASSERT_EQ(a.AdminPost("/_admin/config", "auto_approve_after=0&interval=1"), 200);
  ASSERT_EQ(a.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  ASSERT_TRUE(a.StopAgent());
  std::string token = ReadFile(a.credentials_path());
  agent::v1::Credentials stored;
  ASSERT_TRUE(ParseJson(token, "credentials", &stored).ok());
  EXPECT_EQ(stored.api_url(), a.api_url());
  const std::vector<std::string> at_b = {"DATAGEN_API_URL=" + b.api_url()};
  const int b_before = SessionRequests(b);

  RunResult status = a.Datagen({"auth", "status", "--verify", "--format", "json"}, at_b);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("\"api_url\":\"" + a.api_url() + "\""));
  EXPECT_THAT(status.out, HasSubstr("\"configured_api_url\":\"" + b.api_url() + "\""));
  status = a.Datagen({"auth", "status"}, at_b);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("email: you@yourcompany.com"));
  EXPECT_THAT(status.err, HasSubstr("this session was issued by " + a.api_url() +
                                    ", but the agent is configured for " + b.api_url()));
  RunResult logout = a.Datagen({"auth", "logout", "--format", "json"}, at_b);
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_THAT(logout.out, HasSubstr("\"revoked\":true"));
  EXPECT_FALSE(a.TokenActive(stored.token())) << "not revoked at the issuer";
  EXPECT_EQ(SessionRequests(b), b_before) << "server B was sent a session request";
}

// Two agents on two sockets over one credentials file (a desktop session and a cron job),
// 3-second rotating tokens, a server that revokes the whole grant when a refresh token is used
// twice: both keep serving status over 10 expiries, and the session never ends.
TEST(E2eTrust, TwoAgentsOverOneFileNeverReuseARefreshToken) {
  E2eEnv env;
  ASSERT_EQ(env.AdminPost("/_admin/config",
                          "auto_approve_after=0&interval=1&token_expires_in=3&refresh=1"),
            200);
  ASSERT_EQ(env.Datagen({"auth", "login", "--no-browser"}).exit_code, 0);
  std::string second_dir = env.dir() + "/run2";
  ASSERT_EQ(mkdir(second_dir.c_str(), 0700), 0);
  const std::vector<std::string> second = {"DATAGEN_AGENT_SOCKET=" + second_dir + "/agent.sock"};
  ASSERT_EQ(env.Datagen({"auth", "status"}, second).exit_code, 0);
  int calls = 0, failures = 0;
  std::string first_failure;
  auto refreshes = [&] {
    std::string stats =
        env.RunCommand({"/usr/bin/curl", "-s", env.api_url() + "/_admin/stats"}).out;
    std::smatch count;
    return std::regex_search(stats, count, std::regex(R"("refreshes":(\d+))")) ? std::stoi(count[1])
                                                                               : -1;
  };
  // Both agents are asked, again and again, until the server has seen 10 refreshes (10
  // expiries covered); every answer must be a good one.
  const bool covered = WaitUntil(
      [&] {
        for (bool other : {false, true}) {
          RunResult r =
              env.Datagen({"auth", "status"}, other ? second : std::vector<std::string>{});
          ++calls;
          if (r.exit_code != 0 && failures++ == 0) first_failure = r.err;
        }
        return refreshes() >= 10;
      },
      absl::Seconds(90));
  EXPECT_EQ(failures, 0) << "of " << calls << " calls; first: " << first_failure;
  RunResult token = env.Datagen({"auth", "status", "--verify"}, second);
  EXPECT_EQ(token.exit_code, 0) << token.err;
  std::string stats = env.RunCommand({"/usr/bin/curl", "-s", env.api_url() + "/_admin/stats"}).out;
  EXPECT_THAT(stats, HasSubstr("\"refresh_reuses\":0")) << stats;
  EXPECT_TRUE(covered) << "fewer than 10 expiries were covered in 90 s: " << stats;
  std::cout << "FIGURE two_agents.calls " << calls << "\nFIGURE two_agents.failures " << failures
            << std::endl;
}

}  // namespace
}  // namespace datagen::testing
