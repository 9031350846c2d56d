#include "agent/store/atomic_file.h"

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
#include "agent/common/fd_io.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"

namespace datagen {
namespace {

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
  if (fd < 0) return absl::InternalError(ErrnoMessage("cannot open folder", dir));
  int synced = fsync(fd);
  close(fd);
  if (synced != 0) return absl::InternalError(ErrnoMessage("cannot sync folder", dir));
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view content) {
  std::string temp = absl::StrFormat("%s.tmp-%d", path, getpid());
  unlink(temp.c_str());  // a leftover of a crashed writer with our pid
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return absl::InternalError(ErrnoMessage("cannot create", temp));
  auto fail = [&](absl::string_view what) {
    absl::Status error = absl::InternalError(ErrnoMessage(what, temp));
    if (fd >= 0) close(fd);
    unlink(temp.c_str());
    return error;
  };
  if (!WriteAll(fd, content)) return fail("cannot write");
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
    return absl::FailedPreconditionError(ErrnoMessage("cannot open", path));
  }
  auto fail = [fd](absl::Status status) {
    close(fd);
    return status;
  };
  struct stat st;
  if (fstat(fd, &st) != 0) return fail(absl::InternalError(ErrnoMessage("cannot inspect", path)));
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
      return fail(
          absl::FailedPreconditionError(ErrnoMessage("cannot tighten the permissions of", path)));
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
    if (n < 0) return fail(absl::InternalError(ErrnoMessage("cannot read", path)));
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
    return absl::InternalError(ErrnoMessage("cannot delete", path));
  }
  return SyncFolder(Dirname(path));
}

std::string ErrnoMessage(absl::string_view what, absl::string_view path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

absl::StatusOr<std::string> MoveCorruptFileAside(const std::string& path, absl::string_view what,
                                                 absl::string_view why, absl::Time now) {
  std::string stamp = absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
  std::string aside = absl::StrCat(path, ".corrupt-", stamp);
  for (int n = 1; access(aside.c_str(), F_OK) == 0 && n < 100; ++n) {
    aside = absl::StrCat(path, ".corrupt-", stamp, "-", n);
  }
  if (rename(path.c_str(), aside.c_str()) != 0) {
    return absl::DataLossError(
        absl::StrCat(what, " ", path, " is corrupt (", why,
                     ") and could not be moved aside: ", std::strerror(errno)));
  }
  (void)SyncFolder(Dirname(path));
  LogWarning("%s %s is corrupt (%s); kept as %s", what, path, why, aside);
  return aside;
}

}  // namespace datagen
