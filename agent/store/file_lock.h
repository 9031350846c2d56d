// An exclusive lock shared by every process and thread that opens the same lock file: several
// agents of one user (a desktop session and a cron job see different sockets) over one
// credentials folder take turns through it.
#ifndef DATAGEN_AGENT_STORE_FILE_LOCK_H_
#define DATAGEN_AGENT_STORE_FILE_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace datagen {

// Move-only; released on destruction. Each holder locks (flock) an open file description of its
// own, so the lock also excludes other threads of the same process. Not reentrant: a thread that
// holds it must not acquire it again.
class FileLock {
 public:
  // Blocks until the lock at `path` is held, creating the file (0600, symlinks not followed).
  // The folder must exist. FailedPrecondition naming the file when it cannot be opened.
  static absl::StatusOr<FileLock> Acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_STORE_FILE_LOCK_H_
