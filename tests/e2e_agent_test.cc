// End to end: the agent's lifecycle and socket security (docs/agent.md "Lifecycle", "Security").
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// How many datagen-agent processes serve `socket` (found through /proc).
int AgentsServing(const std::string& socket) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("datagen-agent") != std::string::npos &&
        cmdline.find("--socket=" + socket) != std::string::npos) {
      std::string stat = ReadFile(entry.path().string() + "/stat");
      if (stat.find(") Z") == std::string::npos) ++count;
    }
  }
  return count;
}

TEST(E2eAgent, AutoStartsOnceAndServesFromAPrivateSocket) {
  E2eEnv env;
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
  pid_t pid = env.AgentPid();
  ASSERT_GT(pid, 0);
  struct stat st;
  ASSERT_EQ(stat(env.socket_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(lstat(env.socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0077, 0u);
  // The next command reuses it.
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
  EXPECT_EQ(env.AgentPid(), pid);
}

TEST(E2eAgent, NoAutostartFlagAndEnvironment) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "status", "--no-autostart"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no datagen-agent is running"));
  r = env.Datagen({"auth", "status"}, {"DATAGEN_NO_AUTOSTART=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("auto-start is off"));
  EXPECT_EQ(env.AgentPid(), -1);
}

// Issue 14: an agent that accepts connections but answers nothing (stopped with SIGSTOP) costs
// the caller seconds, not a minute, and the error names it and says what to do.
TEST(E2eAgent, AStoppedAgentIsNamedWithinSecondsNotAMinute) {
  E2eEnv env;
  env.SignedIn();
  pid_t pid = env.AgentPid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  absl::Time start = absl::Now();
  RunResult r = env.Datagen({"auth", "status"});
  absl::Duration took = absl::Now() - start;
  std::cout << "FIGURE stopped_agent_status_s " << absl::ToDoubleSeconds(took) << "\n";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("the agent (pid ", pid, ")")));
  EXPECT_THAT(r.err, HasSubstr("is not answering"));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("kill ", pid)));
  EXPECT_THAT(r.err, Not(HasSubstr("datagen auth login"))) << "no hint of another cause";
  r = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_THAT(r.out, HasSubstr("{\"error\":{\"code\":\"unavailable\""));
  ASSERT_EQ(kill(pid, SIGCONT), 0);
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 0) << "answers again once resumed";
}

// Issue 14: the agent's start-up failure is shown by the CLI, not only in its log.
TEST(E2eAgent, WhyTheAgentCouldNotStartIsShown) {
  E2eEnv env;
  RunResult r = env.Datagen({"auth", "status"}, {"HOME=", "XDG_CONFIG_HOME="});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("datagen-agent failed to start: cannot locate the credentials "
                               "file: set HOME (or XDG_CONFIG_HOME) to an absolute path"));
  EXPECT_THAT(r.err, HasSubstr("agent.log"));
}

TEST(E2eAgent, SigtermRemovesTheSocketAndExitsZero) {
  E2eEnv env;
  Child agent({E2eEnv::AgentBinary()}, env.Env(), env.dir() + "/a.out", env.dir() + "/a.err");
  WaitUntil([&] { return Exists(env.socket_path()); });
  ASSERT_TRUE(Exists(env.socket_path()));
  ASSERT_EQ(env.Datagen({"auth", "status", "--no-autostart"}).exit_code, 4);
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(), 0);
  EXPECT_FALSE(Exists(env.socket_path()));
  EXPECT_THAT(ReadFile(env.dir() + "/a.err"), HasSubstr("socket"));
  // SIGINT too.
  Child again({E2eEnv::AgentBinary()}, env.Env(), env.dir() + "/b.out", env.dir() + "/b.err");
  WaitUntil([&] { return Exists(env.socket_path()); });
  again.Signal(SIGINT);
  EXPECT_EQ(again.Wait(), 0);
  EXPECT_FALSE(Exists(env.socket_path()));
}

TEST(E2eAgent, AStaleSocketIsReplaced) {
  E2eEnv env;
  mkdir(env.socket_dir().c_str(), 0700);
  // A socket file left behind by an agent that died: bound, never unlinked, nobody listening.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, env.socket_path().c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  ASSERT_TRUE(Exists(env.socket_path()));
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_GT(env.AgentPid(), 0);
  EXPECT_THAT(env.AgentLog(), HasSubstr("replacing the stale socket"));
}

TEST(E2eAgent, ALiveAgentIsNeverStolen) {
  E2eEnv env;
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
  pid_t first = env.AgentPid();
  ASSERT_GT(first, 0);
  RunResult second = env.RunCommand({E2eEnv::AgentBinary()});
  EXPECT_EQ(second.exit_code, 0);
  EXPECT_THAT(second.err, HasSubstr("is already serving"));
  EXPECT_EQ(env.AgentPid(), first);
  EXPECT_EQ(env.Datagen({"auth", "status", "--no-autostart"}).exit_code, 4);
}

TEST(E2eAgent, ConcurrentAutoStartsEndWithOneAgent) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  std::vector<std::string> base = env.Env();
  constexpr int kClients = 8;
  std::vector<RunResult> results(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      results[i] = RunProcess({E2eEnv::DatagenBinary(), "auth", "status"}, base);
    });
  }
  for (auto& t : threads) t.join();
  for (const RunResult& r : results) {
    EXPECT_EQ(r.exit_code, 0) << r.err << "agent log:\n" << env.AgentLog();
    EXPECT_THAT(r.out, HasSubstr("role: admin"));
  }
  // Losers of the race exit once the winner answers: one agent is left, and stays.
  EXPECT_TRUE(WaitUntil([&] { return AgentsServing(env.socket_path()) == 1; }))
      << AgentsServing(env.socket_path()) << " agents";
}

TEST(E2eAgent, AnotherUidIsRefusedBeforeAnyCall) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  // Open the way for uid 65534 down to the socket, as a misconfiguration would. The CLI of
  // that uid refuses a folder that is not its own; a client that skips that check (here a raw
  // connection sending gRPC's preface) meets the agent's peer check, the last line of defence.
  std::string client = env.dir() + "/datagen";
  std::filesystem::copy_file(E2eEnv::DatagenBinary(), client);
  chmod(client.c_str(), 0755);
  chmod(env.dir().c_str(), 0711);
  chmod((env.dir() + "/run").c_str(), 0711);
  chmod(env.socket_dir().c_str(), 0711);
  chmod(env.socket_path().c_str(), 0666);
  RunResult r = env.RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                "--clear-groups", client, "auth", "status", "--no-autostart"},
                               {"DATAGEN_AGENT_SOCKET=" + env.socket_path()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("you@yourcompany.com")));
  EXPECT_THAT(r.err, HasSubstr("refusing to talk to the agent"));
  r = env.RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "/usr/bin/python3", "-c",
                      "import socket,sys\n"
                      "s=socket.socket(socket.AF_UNIX)\n"
                      "s.connect(sys.argv[1])\n"
                      "s.settimeout(5)\n"
                      "try:\n"
                      "  s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n')\n"
                      "  print('answered' if s.recv(100) else 'closed')\n"
                      "except (BrokenPipeError, ConnectionResetError):\n"
                      "  print('closed')  # refused before, or while, the preface was sent\n"
                      "except Exception as e:\n"
                      "  print(repr(e))\n",
                      env.socket_path()});
  EXPECT_THAT(r.out, HasSubstr("closed")) << r.err;
  EXPECT_THAT(env.AgentLog(), HasSubstr("refused a connection from uid 65534"));
  chmod(env.socket_dir().c_str(), 0700);
  // The owner is still served.
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
}

TEST(E2eAgent, ASocketFolderOpenToOthersOrOwnedByAnotherUidIsRefused) {
  E2eEnv env;
  mkdir(env.socket_dir().c_str(), 0755);
  chmod(env.socket_dir().c_str(), 0755);
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is open to other users"));
  EXPECT_EQ(env.AgentPid(), -1);
  RunResult agent = env.RunCommand({E2eEnv::AgentBinary()});
  EXPECT_EQ(agent.exit_code, 1);
  EXPECT_THAT(agent.err, HasSubstr("is open to other users"));

  chmod(env.socket_dir().c_str(), 0700);
  ASSERT_EQ(chown(env.socket_dir().c_str(), 65534, 65534), 0);
  r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is owned by uid 65534"));
}

TEST(E2eAgent, AnOverlongSocketPathIsAClearError) {
  E2eEnv env;
  std::string path = "/tmp/" + std::string(120, 'x') + "/agent.sock";
  RunResult r = env.Datagen({"auth", "status"}, {"DATAGEN_AGENT_SOCKET=" + path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("longer than the 107 a Unix socket allows"));
}

TEST(E2eAgent, AKilledAgentIsReplacedByTheNextClient) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  pid_t first = env.AgentPid();
  ASSERT_GT(first, 0);
  kill(first, SIGKILL);
  AwaitGone(first);
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(env.AgentPid(), first);
  EXPECT_GT(env.AgentPid(), 0);
}

// Every `datagen-agent` command line shown in README, docs/ and the systemd unit, as written
// (placeholders filled in), starts an agent that serves and stops cleanly.
TEST(E2eAgent, BothBinariesPrintTheOneVersion) {
  E2eEnv env;
  std::string version(absl::StripAsciiWhitespace(ReadFile(Runfile("VERSION"))));
  ASSERT_FALSE(version.empty());
  RunResult cli = env.Datagen({"--version"});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(cli.out, "datagen " + version + "\n");
  RunResult agent = env.RunCommand({E2eEnv::AgentBinary(), "--version"});
  EXPECT_EQ(agent.exit_code, 0) << agent.err;
  EXPECT_EQ(agent.out, "datagen-agent " + version + "\n");
  // The running agent reports it too, in status --format json.
  env.WriteCredentials(env.MintToken());
  RunResult status = env.Datagen({"auth", "status", "--format", "json"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("\"agent_version\":\"" + version + "\""));
}

TEST(E2eAgent, EveryDocumentedAgentCommandLineStarts) {
  std::vector<std::vector<std::string>> invocations;
  std::regex line_re(R"(datagen-agent((?: +\[?--[a-z_-]+(?:=[^\]\s`]+)?\]?)+))");
  std::regex flag_re(R"(--[a-z_-]+(?:=[^\]\s`]+)?)");
  for (const char* doc :
       {"README.md", "docs/agent.md", "docs/cli.md", "docs/development.md", "docs/api.md",
        "docs/reliability.md", "docs/performance.md", "tools/systemd/datagen-agent.service"}) {
    std::string text = ReadFile(Runfile(doc));
    ASSERT_FALSE(text.empty()) << doc;
    for (std::sregex_iterator it(text.begin(), text.end(), line_re), end; it != end; ++it) {
      std::string flags = (*it)[1];
      std::vector<std::string> args;
      for (std::sregex_iterator f(flags.begin(), flags.end(), flag_re); f != end; ++f) {
        args.push_back(f->str());
      }
      invocations.push_back(args);
    }
  }
  // docs/agent.md's synopsis and example, and the systemd unit's ExecStart at least.
  ASSERT_GE(invocations.size(), 3u);
  for (const std::vector<std::string>& documented : invocations) {
    if (documented == std::vector<std::string>{"--version"} ||
        documented == std::vector<std::string>{"--help"}) {
      // Lines that print and exit: they do, with exit 0.
      RunResult printed = RunProcess({E2eEnv::AgentBinary(), documented[0]}, {});
      EXPECT_EQ(printed.exit_code, 0) << documented[0] << printed.err;
      EXPECT_THAT(printed.out, HasSubstr("datagen-agent")) << documented[0];
      continue;
    }
    E2eEnv env;
    std::vector<std::string> argv = {E2eEnv::AgentBinary()};
    bool socket_given = false;
    for (std::string arg : documented) {
      if (absl::StartsWith(arg, "--socket=")) {
        arg = "--socket=" + env.socket_path();
        socket_given = true;
      }
      if (absl::EndsWith(arg, "=URL")) arg = arg.substr(0, arg.size() - 3) + env.api_url();
      if (absl::EndsWith(arg, "=ID")) arg = arg.substr(0, arg.size() - 2) + "datagen-cli";
      argv.push_back(arg);
    }
    if (!socket_given) argv.push_back("--socket=" + env.socket_path());
    std::string shown = absl::StrJoin(documented, " ");
    Child agent(argv, env.Env(), env.dir() + "/agent.out", env.dir() + "/agent.err");
    RunResult status;
    WaitUntil(
        [&] {
          status = env.Datagen({"auth", "status", "--no-autostart"});
          return status.exit_code == 4 || !agent.running();
        },
        absl::Seconds(20));
    EXPECT_EQ(status.exit_code, 4)
        << "datagen-agent " << shown << ": " << ReadFile(env.dir() + "/agent.err");
    agent.Signal(SIGTERM);
    EXPECT_EQ(agent.Wait(absl::Seconds(10)), 0) << "datagen-agent " << shown;
  }
}

}  // namespace
}  // namespace datagen::testing
