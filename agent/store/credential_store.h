// Where the session's credentials persist. The agent is the file's only writer.
#ifndef DATAGEN_AGENT_STORE_CREDENTIAL_STORE_H_
#define DATAGEN_AGENT_STORE_CREDENTIAL_STORE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/common/clock.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// Held while a read-modify-write of the stored credentials runs (a refresh, an org switch, a
// login's save, a logout); released on destruction.
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

// Implementations need not be thread-safe: the Session serializes every call but Lock.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;

  // Blocks until this caller alone may read-modify-write the credentials: every process and
  // thread using the same storage takes turns (several agents of one user may share a file).
  // Thread-safe. Not reentrant. FailedPrecondition when the lock cannot be taken.
  virtual absl::StatusOr<std::unique_ptr<StoreLock>> Lock() = 0;

  // Reads the stored credentials. NotFound when there are none. DataLoss when the stored data
  // was corrupt: it has been moved aside (never overwritten) and the message says where.
  // FailedPrecondition when the storage is unsafe to use (a symlink, owned by another uid, not a
  // regular file). Repairs it made (permissions tightened) are appended to *warnings.
  virtual absl::StatusOr<agent::v1::Credentials> Load(std::vector<std::string>* warnings) = 0;

  // Replaces the stored credentials atomically: after a crash at any instant the old or the new
  // content is there, whole. Never overwrites stored data it cannot read as the user's own (an
  // unreadable file is moved aside first; a file of another owner is refused).
  virtual absl::Status Save(const agent::v1::Credentials& credentials) = 0;

  // Deletes the stored credentials. OK when there were none.
  virtual absl::Status Remove() = 0;

  // A cheap value that changes whenever the stored credentials change, by this store or behind
  // its back; "absent" when there are none.
  virtual std::string Fingerprint() = 0;
};

// Checks what the agent requires of credentials read from anywhere: a token of printable ASCII
// without spaces (at most 16 KiB), a plausible email, a valid org slug or none. InvalidArgument
// naming the field (never its value) otherwise.
absl::Status ValidateCredentials(const agent::v1::Credentials& credentials);

// FileCredentialStore::Load's "a writer is still at it" (see there), and the test for it.
absl::Status BeingWrittenError();
bool IsBeingWritten(const absl::Status& status);

// The credentials file (docs/cli.md "Files and environment"): JSON in protobuf's mapping of
// agent::v1::Credentials, 0600 in a 0700 folder owned by the user, opened without following
// symlinks, replaced by write-temp + fsync + rename + fsync(folder). A corrupt, oversized or
// invalid file is renamed to "<path>.corrupt-<UTC time>". A file or folder open to others is
// tightened (0600/0700) and reported as a warning.
//
// A writer that truncates, then writes (an editor, `cat > file`) leaves the file empty or cut
// short for a moment. An empty or unparsable file that some process still has open for writing
// (a read lease cannot be taken on it: fcntl(2) F_SETLEASE) is not the file's content yet: Load
// answers IsBeingWritten (Unavailable) and neither quarantines it (which would move the file
// away from under the writer, their write with it) nor reports it; the writer's close (the
// agent's inotify watch sees IN_CLOSE_WRITE) or the next call reads what it wrote. The process
// must ignore SIGIO (agent/main.cc does): a lease broken in the instant it is held sends it.
class FileCredentialStore final : public CredentialStore {
 public:
  // Does not own `clock` (used to name quarantined files), which must outlive the store.
  FileCredentialStore(std::string path, uid_t uid, Clock& clock);

  absl::StatusOr<std::unique_ptr<StoreLock>> Lock() override;
  absl::StatusOr<agent::v1::Credentials> Load(std::vector<std::string>* warnings) override;
  absl::Status Save(const agent::v1::Credentials& credentials) override;
  absl::Status Remove() override;
  std::string Fingerprint() override;

  const std::string& path() const { return path_; }

  // Files larger than this are treated as corrupt without being read.
  static constexpr size_t kMaxFileBytes = 64 * 1024;

 private:
  // Whether some process has the file open for writing now.
  bool OpenForWriting();
  // Moves the file aside; returns DataLoss explaining `why` and where it went.
  absl::Status Quarantine(absl::string_view why);

  const std::string path_;
  const std::string dir_;
  const uid_t uid_;
  Clock& clock_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_STORE_CREDENTIAL_STORE_H_
