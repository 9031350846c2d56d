// Crash-safe file replacement: after a crash at any instant the old or the new content is
// there, whole (LevelDB's SetCurrentFile pattern).
#ifndef DATAGEN_AGENT_STORE_ATOMIC_FILE_H_
#define DATAGEN_AGENT_STORE_ATOMIC_FILE_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace datagen {

// Writes `content` to a temporary file beside `path` (0600, O_EXCL, O_NOFOLLOW), fsyncs it,
// renames it over `path` (replacing a symlink there rather than writing through it) and fsyncs
// the folder. The folder must exist. On error nothing at `path` has changed and no temporary
// file is left. Internal error naming the file (never the content) otherwise. A successful write
// also removes the temporary files that writers killed mid-write (kill -9, power loss) left
// beside `path`.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view content);

// Reads a file that must be private to `uid`, without following symlinks. `what` names it in
// messages ("the credentials file"). NotFound when absent; FailedPrecondition when it is a
// symbolic link, not a regular file, or owned by another uid; OutOfRange ("it is N bytes") when
// it is larger than `max_bytes` (nothing is read then). A file open to others is tightened to
// 0600 and a sentence saying so is logged and appended to *warnings.
absl::StatusOr<std::string> ReadPrivateFile(const std::string& path, absl::string_view what,
                                            uid_t uid, size_t max_bytes,
                                            std::vector<std::string>* warnings);

// Keeps a corrupt file for inspection instead of overwriting it: renames `path` to
// "<path>.corrupt-<UTC time>" (with "-N" added when that name is taken), fsyncs the folder, logs
// a warning naming `what` ("the credentials file"), `why` and the new name, and returns the new
// name. DataLoss naming the file and the reason when it cannot be moved.
absl::StatusOr<std::string> MoveCorruptFileAside(const std::string& path, absl::string_view what,
                                                 absl::string_view why, absl::Time now);

// "<what> <path>: <strerror(errno)>", for errors of system calls on files.
std::string ErrnoMessage(absl::string_view what, absl::string_view path);

// fsyncs a folder, so that renames and deletions in it survive a crash.
absl::Status SyncFolder(const std::string& dir);

// Deletes `path` and fsyncs its folder. OK when it did not exist.
absl::Status RemoveFileDurably(const std::string& path);

}  // namespace datagen

#endif  // DATAGEN_AGENT_STORE_ATOMIC_FILE_H_
