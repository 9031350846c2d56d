#include "agent/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "agent/log.h"
#include "agent/paths.h"

namespace datagen {
namespace {

std::string Errno(absl::string_view what, absl::string_view path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// Removes "<name>.tmp-<pid>" files beside `path` that a writer killed mid-write left behind:
// ours, regular, and of a pid that no longer runs. A live pid's file may be a write in progress
// (or a reused pid's; then it stays, harmless, until that process is gone).
void RemoveTempFilesOfDeadWriters(const std::string& path) {
  std::string folder = Dirname(path);
  std::string prefix = absl::StrCat(path.substr(folder.size() + 1), ".tmp-");
  DIR* dir = opendir(folder.c_str());
  if (dir == nullptr) return;
  while (struct dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    int pid = 0;
    if (!absl::ConsumePrefix(&name, prefix) || !absl::SimpleAtoi(name, &pid) || pid <= 0 ||
        pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) {
      continue;
    }
    struct stat st;
    if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        st.st_uid == geteuid()) {
      unlinkat(dirfd(dir), entry->d_name, 0);
    }
  }
  closedir(dir);
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
  RemoveTempFilesOfDeadWriters(path);
  return SyncFolder(Dirname(path));
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, absl::string_view what,
                                            uid_t uid, size_t max_bytes,
                                            std::vector<std::string>* warnings) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no ", what));
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", path, " is a symbolic link; refusing to follow it"));
    }
    return absl::FailedPreconditionError(Errno("cannot open", path));
  }
  auto fail = [fd](absl::Status status) {
    close(fd);
    return status;
  };
  struct stat st;
  if (fstat(fd, &st) != 0) return fail(absl::InternalError(Errno("cannot inspect", path)));
  if (!S_ISREG(st.st_mode)) {
    return fail(
        absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a regular file")));
  }
  if (st.st_uid != uid) {
    return fail(absl::FailedPreconditionError(
        absl::StrFormat("%s %s is owned by uid %d, not by you (uid %d); refusing to use it", what,
                        path, st.st_uid, uid)));
  }
  if ((st.st_mode & 077) != 0) {
    if (fchmod(fd, 0600) != 0) {
      return fail(absl::FailedPreconditionError(Errno("cannot tighten the permissions of", path)));
    }
    std::string note = absl::StrFormat(
        "%s %s was readable by others (mode %04o); its permissions were tightened to 0600", what,
        path, st.st_mode & 07777);
    LogWarning("%s", note);
    warnings->push_back(note);
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return fail(absl::OutOfRangeError(absl::StrCat("it is ", st.st_size, " bytes")));
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < content.size()) {
    ssize_t n = read(fd, content.data() + got, content.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(absl::InternalError(Errno("cannot read", path)));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  content.resize(got);
  return content;
}

absl::Status RemoveFileDurably(const std::string& path) {
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return absl::OkStatus();
    return absl::InternalError(Errno("cannot delete", path));
  }
  return SyncFolder(Dirname(path));
}

}  // namespace datagen
