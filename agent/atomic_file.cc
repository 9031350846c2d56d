#include "agent/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/paths.h"

namespace datagen {
namespace {

std::string Errno(absl::string_view what, absl::string_view path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

}  // namespace

absl::Status SyncFolder(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(Errno("cannot open folder", dir));
  int synced = fsync(fd);
  close(fd);
  if (synced != 0) return absl::InternalError(Errno("cannot sync folder", dir));
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view content) {
  std::string temp = absl::StrFormat("%s.tmp-%d", path, getpid());
  unlink(temp.c_str());  // a leftover of a crashed writer with our pid
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(Errno("cannot create", temp));
  auto fail = [&](absl::string_view what) {
    absl::Status error = absl::InternalError(Errno(what, temp));
    if (fd >= 0) close(fd);
    unlink(temp.c_str());
    return error;
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail("cannot sync");
  int closed = close(fd);
  fd = -1;
  if (closed != 0) return fail("cannot close");
  if (rename(temp.c_str(), path.c_str()) != 0) return fail("cannot rename");
  return SyncFolder(Dirname(path));
}

absl::Status RemoveFileDurably(const std::string& path) {
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return absl::OkStatus();
    return absl::InternalError(Errno("cannot delete", path));
  }
  return SyncFolder(Dirname(path));
}

}  // namespace datagen
