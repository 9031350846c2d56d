// Running the project's real binaries from tests.
#ifndef DATAGEN_TESTS_TESTING_SUBPROCESS_H_
#define DATAGEN_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace datagen::testing {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it timed out (then killed)
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with exactly `env` ("NAME=value" entries) and empty stdin; collects
// stdout and stderr. Kills it after `timeout`.
RunResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     absl::Duration timeout = absl::Seconds(60));

// A long-running child whose stdout and stderr go to files.
class Child {
 public:
  Child() = default;
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
        const std::string& out_path, const std::string& err_path);
  ~Child();  // SIGKILL + reap if still running
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal);
  // Waits up to `timeout` for it to exit; returns the exit code as in RunResult.
  int Wait(absl::Duration timeout = absl::Seconds(10));

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Polls `condition` every 20 ms until it holds or `timeout` (monotonic) has passed; returns
// whether it held. The one way tests wait for something another process does.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(10));

// Waits (WaitUntil) until `pid` is gone, or a zombie (a process that is not our child is reaped
// by init, later). Returns whether it went.
bool AwaitGone(pid_t pid, absl::Duration timeout = absl::Seconds(10));

// A path of the test's runfiles (e.g. "client/datagen").
std::string Runfile(const std::string& path);

// Reads a whole file; "" when it cannot.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content, int mode = 0600);

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_SUBPROCESS_H_
