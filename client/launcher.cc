#include "client/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/common/fd_io.h"

namespace datagen::cli {
namespace {

// The message of the last ERROR line in the agent's log (what made it fail to start), or "".
// Only the log's tail is read.
std::string LastErrorLine(const std::string& log_path) {
  int fd = open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[8192];
  off_t size = lseek(fd, 0, SEEK_END);
  off_t from = size > static_cast<off_t>(sizeof(buf)) ? size - static_cast<off_t>(sizeof(buf)) : 0;
  ssize_t n = pread(fd, buf, sizeof(buf), from);
  close(fd);
  if (n <= 0) return "";
  std::string message;
  for (absl::string_view line : absl::StrSplit(absl::string_view(buf, n), '\n')) {
    size_t at = line.find(" ERROR ");
    if (at != absl::string_view::npos) message = std::string(line.substr(at + 7));
  }
  return message;
}

}  // namespace

std::string ProcessLauncher::AgentBinary() { return FindCompanionBinary("datagen-agent"); }

absl::Status ProcessLauncher::Start(const std::string& socket_path, const std::string& log_path,
                                    const std::function<bool()>& answers) {
  std::string binary = AgentBinary();
  if (binary.empty()) {
    return absl::UnavailableError(
        "no datagen-agent is running and none could be found beside datagen or on PATH");
  }
  pid_t child = fork();
  if (child < 0) return absl::UnavailableError("cannot start datagen-agent: fork failed");
  if (child == 0) {
    // The agent outlives this command: its own session, no terminal, stderr to its log.
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int in = open("/dev/null", O_RDWR | O_CLOEXEC);
    int log = open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (in >= 0) {
      dup2(in, STDIN_FILENO);
      dup2(in, STDOUT_FILENO);
      dup2(log >= 0 ? log : in, STDERR_FILENO);
    }
    std::string socket_flag = "--socket=" + socket_path;
    execl(binary.c_str(), binary.c_str(), socket_flag.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  absl::Time give_up = absl::Now() + kStartTimeout;
  bool exited = false;
  int exit_status = 0;
  while (absl::Now() < give_up) {
    // A running child is the agent itself; init reaps it once this command exits.
    if (answers()) return absl::OkStatus();
    if (!exited && waitpid(child, &exit_status, WNOHANG) == child) {
      exited = true;
      // Exit 0: another agent won the race to start and will answer shortly.
      if (!WIFEXITED(exit_status) || WEXITSTATUS(exit_status) != 0) {
        std::string why = LastErrorLine(log_path);
        return absl::UnavailableError(absl::StrCat("datagen-agent failed to start",
                                                   why.empty() ? "" : absl::StrCat(": ", why),
                                                   " (its log: ", log_path, ")"));
      }
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::UnavailableError(
      absl::StrCat("datagen-agent did not start listening on ", socket_path, " within ",
                   absl::FormatDuration(kStartTimeout), "; see ", log_path));
}

}  // namespace datagen::cli
