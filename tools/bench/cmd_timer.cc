// Whole-process timing of commands, interleaved: run 1 of each, then run 2 of each, ... so that
// machine noise spreads over all of them alike. Prints one line per command:
//   label <TAB> median_ms <TAB> min_ms <TAB> max_ms <TAB> sample,sample,...
//
// Usage: cmd_timer RUNS label1 cmd1 [args] --- label2 cmd2 [args] --- ...
//
// A command may start with an untimed one, run before it every time (to put the system in the
// state the timed command is measured in: an agent stopped, or asleep):
//   label before-cmd [args] +++ cmd [args]
// A command whose exit status does not count (a peer that exits 1 after printing its usage, as
// `ssh-add --help` does) starts with +any:
//   label +any cmd [args]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Command {
  std::string label;
  std::vector<std::string> before;  // untimed, run first; empty: none
  std::vector<std::string> argv;
  bool any_exit = false;  // +any: time it whatever it exits with
  std::vector<double> ms;
};

double NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Runs `argv` once with stdout/stderr to /dev/null; returns the wall time, or -1 on failure.
double Run(const std::vector<std::string>& argv, bool any_exit = false) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  double start = NowMs();
  pid_t pid;
  int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  double took = NowMs() - start;
  return WIFEXITED(status) && (any_exit || WEXITSTATUS(status) == 0) ? took : -1;
}

double RunOnce(const Command& c) {
  if (!c.before.empty() && Run(c.before) < 0) return -1;
  return Run(c.argv, c.any_exit);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: cmd_timer RUNS label cmd [args] --- label cmd [args] ...\n");
    return 2;
  }
  int runs = std::atoi(argv[1]);
  std::vector<Command> commands(1);
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "---") {
      commands.emplace_back();
    } else if (arg == "+++") {
      commands.back().before = std::move(commands.back().argv);
      commands.back().argv.clear();
    } else if (arg == "+any" && commands.back().argv.empty()) {
      commands.back().any_exit = true;
    } else if (commands.back().label.empty()) {
      commands.back().label = arg;
    } else {
      commands.back().argv.push_back(arg);
    }
  }
  for (Command& c : commands) RunOnce(c);  // warm-up: page cache, agent connections
  for (int r = 0; r < runs; ++r) {
    for (Command& c : commands) {
      double ms = RunOnce(c);
      if (ms < 0) {
        std::fprintf(stderr, "cmd_timer: %s failed\n", c.label.c_str());
        return 1;
      }
      c.ms.push_back(ms);
    }
  }
  for (Command& c : commands) {
    std::vector<double> sorted = c.ms;
    std::sort(sorted.begin(), sorted.end());
    std::printf("%s\t%.3f\t%.3f\t%.3f\t", c.label.c_str(), sorted[sorted.size() / 2],
                sorted.front(), sorted.back());
    for (size_t i = 0; i < c.ms.size(); ++i) std::printf("%s%.3f", i ? "," : "", c.ms[i]);
    std::printf("\n");
  }
  return 0;
}
