#include "agent/helper_http_transport.h"

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

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/clock.h"
#include "agent/fd_io.h"
#include "agent/paths.h"
#include "proto/datagen/agent/internal/http.pb.h"

extern char** environ;

namespace datagen {
namespace {

// A reply is at most kMaxResponseBytes of body plus headers and framing.
constexpr size_t kMaxReplyBytes = kMaxResponseBytes + 256 * 1024;

}  // namespace

HelperHttpTransport::HelperHttpTransport(std::string helper_path)
    : helper_path_(std::move(helper_path)) {}

std::string HelperHttpTransport::HelperBesideSelf() {
  std::string found = FindCompanionBinary("datagen-agent-http");
  return found.empty() ? "datagen-agent-http" : found;  // else Send says it cannot be started
}

absl::StatusOr<HttpResponse> HelperHttpTransport::Send(const HttpRequest& request) {
  agent::internal::HttpExchangeRequest exchange;
  exchange.set_method(request.method);
  exchange.set_url(request.url);
  for (const auto& [name, value] : request.headers) {
    auto* header = exchange.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  exchange.set_body(request.body);
  exchange.set_timeout_ms(absl::ToInt64Milliseconds(request.timeout));

  int to_helper[2], from_helper[2];
  if (pipe2(to_helper, O_CLOEXEC) != 0) return absl::InternalError("cannot create a pipe");
  if (pipe2(from_helper, O_CLOEXEC) != 0) {
    close(to_helper[0]);
    close(to_helper[1]);
    return absl::InternalError("cannot create a pipe");
  }
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
  char* argv[] = {const_cast<char*>(helper_path_.c_str()), nullptr};
  pid_t pid = -1;
  int spawned = posix_spawn(&pid, helper_path_.c_str(), &actions, &attributes, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(to_helper[0]);
  close(from_helper[1]);
  auto finish = [&](absl::Status error) -> absl::StatusOr<HttpResponse> {
    close(to_helper[1]);
    close(from_helper[0]);
    if (pid > 0) {
      if (!error.ok()) kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    return error;
  };
  if (spawned != 0) {
    pid = -1;
    return finish(absl::InternalError(
        absl::StrCat("cannot start ", helper_path_, ": ", std::strerror(spawned))));
  }
  if (!WriteAll(to_helper[1], exchange.SerializeAsString())) {
    return finish(absl::InternalError("the HTTP helper did not take the request"));
  }
  close(to_helper[1]);
  to_helper[1] = -1;

  std::string reply;
  absl::Time deadline = MonotonicNow() + request.timeout + absl::Seconds(1);  // monotonic
  while (true) {
    if (request.cancel != nullptr && request.cancel->HasBeenNotified()) {
      return finish(absl::CancelledError("the request was cancelled"));
    }
    absl::Duration left = deadline - MonotonicNow();
    if (left <= absl::ZeroDuration()) {
      return finish(absl::UnavailableError("the HTTP helper timed out"));
    }
    pollfd fd = {from_helper[0], POLLIN, 0};
    int wait_ms = static_cast<int>(std::min<int64_t>(200, absl::ToInt64Milliseconds(left) + 1));
    if (poll(&fd, 1, wait_ms) < 0 && errno != EINTR) {
      return finish(absl::InternalError("poll failed"));
    }
    if (fd.revents == 0) continue;
    char buffer[64 * 1024];
    ssize_t n = read(from_helper[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, n);
    if (reply.size() > kMaxReplyBytes) {
      return finish(absl::InternalError("the HTTP helper's reply is too large"));
    }
  }
  close(from_helper[0]);
  from_helper[0] = -1;
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
  agent::internal::HttpExchangeResponse response;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !response.ParseFromString(reply)) {
    return absl::InternalError("the HTTP helper failed");
  }
  if (response.error_code() != 0) {
    absl::Status error(static_cast<absl::StatusCode>(response.error_code()),
                       response.error_message());
    if (response.oversized_status() != 0) {
      error.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(response.oversized_status())));
    }
    return error;
  }
  HttpResponse out;
  out.status = response.status();
  for (const auto& header : response.headers())
    out.headers.emplace_back(header.name(), header.value());
  out.body = response.body();
  return out;
}

}  // namespace datagen
