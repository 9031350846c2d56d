// Small POSIX helpers that the agent, its HTTP helper and the CLI share: an owned file
// descriptor, one write loop and one way to find a companion binary.
//
// The functions are thread-safe (no state of their own); a UniqueFd is thread-compatible.
#ifndef DATAGEN_AGENT_COMMON_FD_IO_H_
#define DATAGEN_AGENT_COMMON_FD_IO_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace datagen {

// An owned file descriptor: closed when destroyed or reset, moved and never copied. -1: none.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership (e.g. to gRPC) without closing.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the one held, if any, and holds `fd`.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Writes all of `data` to `fd`, retrying short writes and EINTR. False on any other error
// (errno tells which); then an unknown part of `data` was written.
bool WriteAll(int fd, absl::string_view data);

// The executable `name` beside the running binary (/proc/self/exe), else in
// `<that folder>/../<libexec_dir>` when `libexec_dir` is given (e.g. "libexec/datagen", where
// tools/install and the Debian package put the agent's helper); "" when there is neither. Always
// an absolute path: never resolved against the working directory or PATH. How the agent finds
// its HTTP helper, the one process besides the agent that sees every token.
std::string InstalledCompanion(absl::string_view name, absl::string_view libexec_dir = "");

// InstalledCompanion, else the first `name` on PATH in a folder named by an absolute path
// (relative PATH entries such as "." or "" are skipped); "" when there is none. How the CLI finds
// datagen-agent: an installed pair always uses its own partner, whatever PATH says.
std::string FindCompanionBinary(absl::string_view name, absl::string_view libexec_dir = "");

// The environment an HTTP helper needs from `environ` ("NAME=value" entries): the proxy and CA
// variables libcurl documents (http_proxy, https_proxy, all_proxy, no_proxy in either case,
// SSL_CERT_FILE, SSL_CERT_DIR, CURL_CA_BUNDLE) and nothing else: no LD_PRELOAD or other loader
// variable from whichever shell started the agent reaches the process that sees every token.
std::vector<std::string> HelperEnvironment(const char* const* environ);

// The running binary's path (/proc/self/exe), or "".
std::string SelfPath();

// "<device>:<inode>" of the file at `path` (following symlinks), or "" when there is none. A
// binary replaced by an upgrade (a new file renamed over the old) has another identity.
std::string FileIdentity(const std::string& path);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_FD_IO_H_
