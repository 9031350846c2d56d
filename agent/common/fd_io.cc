#include "agent/common/fd_io.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/common/paths.h"

namespace datagen {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string InstalledCompanion(absl::string_view name, absl::string_view libexec_dir) {
  std::string self = SelfPath();
  if (self.empty() || self[0] != '/') return "";
  std::string beside = absl::StrCat(Dirname(self), "/", name);
  if (access(beside.c_str(), X_OK) == 0) return beside;
  if (!libexec_dir.empty()) {
    std::string installed = absl::StrCat(Dirname(self), "/../", libexec_dir, "/", name);
    if (access(installed.c_str(), X_OK) == 0) return installed;
  }
  return "";
}

std::string FindCompanionBinary(absl::string_view name, absl::string_view libexec_dir) {
  if (std::string installed = InstalledCompanion(name, libexec_dir); !installed.empty()) {
    return installed;
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    if (dir[0] != '/') continue;  // "." and other relative entries: never the working directory
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::vector<std::string> HelperEnvironment(const char* const* environ) {
  static constexpr absl::string_view kKept[] = {
      "http_proxy", "HTTP_PROXY", "https_proxy",   "HTTPS_PROXY",  "all_proxy",      "ALL_PROXY",
      "no_proxy",   "NO_PROXY",   "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE",
  };
  std::vector<std::string> kept;
  for (const char* const* entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    absl::string_view name = variable.substr(0, variable.find('='));
    for (absl::string_view wanted : kKept) {
      if (name == wanted && name.size() < variable.size()) kept.emplace_back(variable);
    }
  }
  return kept;
}

std::string SelfPath() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  return n > 0 ? std::string(self, n) : "";
}

std::string FileIdentity(const std::string& path) {
  struct stat st;
  if (path.empty() || stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_dev, ":", st.st_ino);
}

}  // namespace datagen
