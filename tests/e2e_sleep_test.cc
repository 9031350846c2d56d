// End to end (issue 13): the real datagen-agent sleeps when idle. After --sleep_after with no
// call, stream or login, it holds no gRPC thread and makes no context switch at all, in any
// thread; the next command wakes it and is answered; a watcher keeps it awake, and when the
// watcher leaves it sleeps again.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

struct Thread {
  std::string name;
  int64_t switches = 0;  // voluntary + involuntary context switches so far
};

// The threads of `pid`, by tid.
std::map<int, Thread> Threads(pid_t pid) {
  std::map<int, Thread> threads;
  std::string dir = absl::StrCat("/proc/", pid, "/task");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return threads;
  while (dirent* e = readdir(d)) {
    int tid = 0;
    if (!absl::SimpleAtoi(e->d_name, &tid)) continue;
    Thread t;
    std::ifstream status(absl::StrCat(dir, "/", tid, "/status"));
    for (std::string line; std::getline(status, line);) {
      std::istringstream words(line);
      std::string key;
      words >> key;
      if (key == "Name:") words >> t.name;
      if (absl::EndsWith(key, "ctxt_switches:")) {
        int64_t n = 0;
        words >> n;
        t.switches += n;
      }
    }
    threads[tid] = t;
  }
  closedir(d);
  return threads;
}

// True when every thread is the agent's own (main, dg-*): gRPC's have all ended.
bool Asleep(pid_t pid) {
  std::map<int, Thread> threads = Threads(pid);
  if (threads.empty()) return false;
  for (const auto& [tid, t] : threads) {
    if (t.name != "datagen-agent" && !absl::StartsWith(t.name, "dg-")) return false;
  }
  return true;
}

// Asleep, and done falling asleep: the accept loop, which tears gRPC down on its own thread, is
// back in its poll on the listening socket. gRPC's last thread leaves /proc before the accept
// loop has returned from joining it, so Asleep alone can still see the loop's last step (one
// context switch, seen by a loaded CI run).
bool SettledAsleep(pid_t pid) {
  if (!Asleep(pid)) return false;
  std::string dir = absl::StrCat("/proc/", pid, "/task");
  for (const auto& [tid, t] : Threads(pid)) {
    if (t.name != "dg-accept") continue;
    std::ifstream wchan(absl::StrCat(dir, "/", tid, "/wchan"));
    std::string where;
    wchan >> where;
    if (where.find("poll") == std::string::npos) return false;
  }
  return true;
}

// Context switches per thread over `window`; prints each as a FIGURE.
std::map<std::string, int64_t> SwitchesOver(pid_t pid, absl::Duration window,
                                            const std::string& label) {
  std::map<int, Thread> before = Threads(pid);
  absl::SleepFor(window);
  std::map<int, Thread> after = Threads(pid);
  std::map<std::string, int64_t> by_name;
  for (const auto& [tid, t] : after) {
    auto it = before.find(tid);
    int64_t delta = t.switches - (it == before.end() ? 0 : it->second.switches);
    by_name[t.name] += delta;
  }
  for (const auto& [name, n] : by_name) {
    std::cout << "FIGURE " << label << "." << name << " " << n << "\n";
  }
  return by_name;
}

TEST(E2eSleep, AnIdleAgentHoldsNoGrpcThreadAndMakesNoContextSwitch) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  Child agent({E2eEnv::AgentBinary(), "--sleep_after=1s"}, env.Env(), env.dir() + "/a.out",
              env.dir() + "/a.err");
  ASSERT_TRUE(WaitUntil([&] { return env.AgentPid() == agent.pid(); }));
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  EXPECT_FALSE(Asleep(agent.pid())) << "gRPC is up while in use";

  ASSERT_TRUE(WaitUntil([&] { return SettledAsleep(agent.pid()); }, absl::Seconds(10)))
      << "still has gRPC threads 10 s after the last call";
  std::cout << "FIGURE idle.threads " << Threads(agent.pid()).size() << "\n";
  std::map<std::string, int64_t> idle = SwitchesOver(agent.pid(), absl::Seconds(3), "idle_3s");
  for (const auto& [name, n] : idle) EXPECT_EQ(n, 0) << name << " woke up while idle";

  // The next command wakes it and is answered, from memory (the identity is still fresh).
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::HasSubstr("email: you@yourcompany.com"));
  EXPECT_THAT(r.err, ::testing::IsEmpty());

  // A watcher keeps it awake; its figure, thread by thread, is reported.
  Child watcher = env.StartDatagen({"auth", "status", "--watch"}, "watch");
  ASSERT_TRUE(env.AwaitOutput("watch", "you@yourcompany.com"));
  // The control: a second agent, called once after the watcher came, with no watcher. Once it
  // sleeps, more than --sleep_after has passed for the first one too.
  const std::string control_dir = env.dir() + "/control";
  ASSERT_EQ(mkdir(control_dir.c_str(), 0700), 0);
  Child control({E2eEnv::AgentBinary(), "--sleep_after=1s", "--socket=" + control_dir + "/s"},
                env.Env(), env.dir() + "/control.out", env.dir() + "/control.err");
  RunResult called;
  ASSERT_TRUE(WaitUntil([&] {  // once it listens
    called = env.Datagen({"auth", "status", "--no-autostart"},
                         {"DATAGEN_AGENT_SOCKET=" + control_dir + "/s"});
    return called.exit_code == 0;
  })) << called.err
      << ReadFile(env.dir() + "/control.err");
  ASSERT_TRUE(WaitUntil([&] { return Asleep(control.pid()); }, absl::Seconds(10)))
      << "the control never slept";
  EXPECT_FALSE(Asleep(agent.pid())) << "a watcher is connected";
  control.Signal(SIGTERM);
  EXPECT_EQ(control.Wait(), 0);
  SwitchesOver(agent.pid(), absl::Seconds(3), "one_watcher_3s");
  watcher.Signal(SIGTERM);
  watcher.Wait();
  EXPECT_TRUE(WaitUntil([&] { return Asleep(agent.pid()); }, absl::Seconds(10)))
      << "asleep again once the watcher left";

  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(), 0);
}

}  // namespace
}  // namespace datagen::testing
