#include "agent/http/helper_http_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "agent/common/clock.h"
#include "agent/common/fd_io.h"
#include "agent/common/paths.h"
#include "agent/common/secret_memory.h"
#include "agent/http/helper_protocol.h"

extern char** environ;

namespace datagen {
namespace {

// A reply is at most kMaxResponseBytes of body plus headers and framing.
constexpr size_t kMaxReplyBytes = kMaxResponseBytes + 256 * 1024;

// One run of the helper, with pipes to its stdin and stdout. Destruction closes both and reaps
// the helper, killing it first if it has not finished.
class HelperRun {
 public:
  static absl::StatusOr<std::unique_ptr<HelperRun>> Spawn(const std::string& path,
                                                          char* const* envp);
  ~HelperRun();

  // Writes the whole request, then closes the helper's stdin.
  absl::Status Write(absl::string_view request);
  // Reads the helper's stdout to its end, unless `deadline` (monotonic) passes or `cancel` is
  // notified first.
  absl::StatusOr<std::string> ReadAll(absl::Time deadline, const absl::Notification* cancel);
  // Waits for the helper to exit; true when it exited 0.
  bool Succeeded();

 private:
  HelperRun() = default;
  pid_t pid_ = -1;
  int to_ = -1;    // the helper's stdin
  int from_ = -1;  // the helper's stdout
};

absl::StatusOr<std::unique_ptr<HelperRun>> HelperRun::Spawn(const std::string& path,
                                                            char* const* envp) {
  int to_helper[2], from_helper[2];
  if (pipe2(to_helper, O_CLOEXEC) != 0) return absl::InternalError("cannot create a pipe");
  if (pipe2(from_helper, O_CLOEXEC) != 0) {
    close(to_helper[0]);
    close(to_helper[1]);
    return absl::InternalError("cannot create a pipe");
  }
  std::unique_ptr<HelperRun> run(new HelperRun());
  run->to_ = to_helper[1];
  run->from_ = from_helper[0];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_helper[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_helper[1], STDOUT_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);  // the agent blocks SIGTERM; the helper not
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
  int spawned = posix_spawn(&run->pid_, path.c_str(), &actions, &attributes, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(to_helper[0]);
  close(from_helper[1]);
  if (spawned != 0) {
    run->pid_ = -1;
    return absl::InternalError(absl::StrCat("cannot start ", path, ": ", std::strerror(spawned)));
  }
  return run;
}

HelperRun::~HelperRun() {
  if (to_ >= 0) close(to_);
  if (from_ >= 0) close(from_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);  // a no-op once it has exited (it stays a zombie until reaped here)
    waitpid(pid_, nullptr, 0);
  }
}

absl::Status HelperRun::Write(absl::string_view request) {
  bool written = WriteAll(to_, request);
  close(to_);
  to_ = -1;
  if (!written) return absl::InternalError("the HTTP helper did not take the request");
  return absl::OkStatus();
}

absl::StatusOr<std::string> HelperRun::ReadAll(absl::Time deadline,
                                               const absl::Notification* cancel) {
  std::string reply;
  while (true) {
    if (cancel != nullptr && cancel->HasBeenNotified()) {
      return absl::CancelledError("the request was cancelled");
    }
    absl::Duration left = deadline - MonotonicNow();
    if (left <= absl::ZeroDuration()) return absl::UnavailableError("the HTTP helper timed out");
    pollfd fd = {from_, POLLIN, 0};
    int wait_ms = static_cast<int>(std::min<int64_t>(200, absl::ToInt64Milliseconds(left) + 1));
    if (poll(&fd, 1, wait_ms) < 0 && errno != EINTR) return absl::InternalError("poll failed");
    if (fd.revents == 0) continue;
    char buffer[64 * 1024];
    ssize_t n = read(from_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return reply;
    reply.append(buffer, n);
    if (reply.size() > kMaxReplyBytes) {
      return absl::InternalError("the HTTP helper's reply is too large");
    }
  }
}

bool HelperRun::Succeeded() {
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return false;
  pid_ = -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

HelperHttpTransport::HelperHttpTransport(std::string helper_path)
    : helper_path_(std::move(helper_path)), environment_(HelperEnvironment(environ)) {
  for (const std::string& variable : environment_)
    envp_.push_back(const_cast<char*>(variable.c_str()));
  envp_.push_back(nullptr);
}

absl::StatusOr<std::string> HelperHttpTransport::Locate(absl::string_view given) {
  if (!given.empty()) {
    if (given[0] != '/') {
      return absl::FailedPreconditionError(
          absl::StrCat("--http-helper must be an absolute path (got \"", given, "\")"));
    }
    std::string path(given);
    if (access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("--http-helper ", path, " is not an executable file"));
    }
    return path;
  }
  std::string found = InstalledCompanion("datagen-agent-http", "libexec/datagen");
  if (found.empty()) {
    std::string folder = Dirname(SelfPath());
    return absl::FailedPreconditionError(absl::StrCat(
        "installation error: the agent's HTTP helper datagen-agent-http is neither in ", folder,
        " nor in ", folder,
        "/../libexec/datagen; reinstall datagen (tools/install, or the "
        "package), or start the agent with --http-helper=/absolute/path"));
  }
  return found;
}

absl::StatusOr<HttpResponse> HelperHttpTransport::Send(const HttpRequest& request) {
  absl::StatusOr<std::unique_ptr<HelperRun>> run = HelperRun::Spawn(helper_path_, envp_.data());
  if (!run.ok()) return run.status();
  std::string bytes = EncodeHelperRequest(request);
  absl::Status written = (*run)->Write(bytes);
  WipeString(&bytes);  // it holds a token
  if (!written.ok()) return written;
  absl::Time deadline = MonotonicNow() + request.timeout + absl::Seconds(1);
  absl::StatusOr<std::string> reply = (*run)->ReadAll(deadline, request.cancel);
  if (!reply.ok()) return reply.status();
  if (!(*run)->Succeeded()) return absl::InternalError("the HTTP helper failed");
  absl::StatusOr<HttpResponse> response = DecodeHelperOutcome(*reply);
  WipeString(&*reply);
  return response;
}

}  // namespace datagen
