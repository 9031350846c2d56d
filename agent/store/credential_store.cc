#include "agent/store/credential_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/common/json.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/reason.h"
#include "agent/common/secret_memory.h"
#include "agent/common/text.h"
#include "agent/store/atomic_file.h"
#include "agent/store/file_lock.h"

namespace datagen {
absl::Status ValidateCredentials(const agent::v1::Credentials& c) {
  if (c.token().empty()) return absl::InvalidArgumentError("it has no token");
  if (!IsTokenText(c.token())) {
    return absl::InvalidArgumentError("its token is not a valid bearer token");
  }
  if (!c.refresh_token().empty() && !IsTokenText(c.refresh_token())) {
    return absl::InvalidArgumentError("its refresh_token is not valid");
  }
  // Any script, as the server gave it (JSON parsing already required valid UTF-8); shown
  // escaped wherever it is printed.
  if (c.email().size() > 320) return absl::InvalidArgumentError("its email is too long");
  if (!c.active_org_slug().empty() && !IsValidSlug(c.active_org_slug())) {
    return absl::InvalidArgumentError("its active_org_slug is not a valid organization slug");
  }
  if (c.api_url().size() > 2048) return absl::InvalidArgumentError("its api_url is too long");
  return absl::OkStatus();
}

FileCredentialStore::FileCredentialStore(std::string path, uid_t uid, Clock& clock)
    : path_(std::move(path)), dir_(Dirname(path_)), uid_(uid), clock_(clock) {}

namespace {
constexpr char kBeingWrittenPayload[] = "datagen.dev/credentials/being-written";
}  // namespace

absl::Status BeingWrittenError() {
  absl::Status status = absl::UnavailableError("the credentials file is being written");
  status.SetPayload(kBeingWrittenPayload, absl::Cord("1"));
  return status;
}

bool IsBeingWritten(const absl::Status& status) {
  return status.GetPayload(kBeingWrittenPayload).has_value();
}

bool FileCredentialStore::OpenForWriting() {
  int fd = open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  // A read lease is refused (EAGAIN) while any process has the file open for writing. Released
  // at once: the lease is only the question.
  bool writing = fcntl(fd, F_SETLEASE, F_RDLCK) != 0 && errno == EAGAIN;
  if (!writing) (void)fcntl(fd, F_SETLEASE, F_UNLCK);
  close(fd);
  return writing;
}

absl::Status FileCredentialStore::Quarantine(absl::string_view why) {
  absl::StatusOr<std::string> aside =
      MoveCorruptFileAside(path_, "the credentials file", why, clock_.Now());
  if (!aside.ok()) return aside.status();
  return WithReason(absl::DataLossError(absl::StrCat("the credentials file was corrupt (", why,
                                                     "); it was kept for inspection as ", *aside)),
                    agent::v1::ERROR_REASON_CREDENTIALS_CORRUPT);
}

absl::StatusOr<agent::v1::Credentials> FileCredentialStore::Load(
    std::vector<std::string>* warnings) {
  struct stat dir_st;
  if (lstat(dir_.c_str(), &dir_st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError("no credentials file");
    return absl::FailedPreconditionError(ErrnoMessage("cannot inspect", dir_));
  }
  std::string repaired;
  if (absl::Status dir_ok = EnsurePrivateDir(dir_, uid_, LooseFolder::kTighten, &repaired);
      !dir_ok.ok()) {
    return dir_ok;
  }
  if (!repaired.empty()) {
    LogWarning("%s", repaired);
    warnings->push_back(repaired);
  }

  absl::StatusOr<std::string> content =
      ReadPrivateFile(path_, "the credentials file", uid_, kMaxFileBytes, warnings);
  if (absl::IsOutOfRange(content.status())) {
    return Quarantine(
        absl::StrCat(content.status().message(), ", more than a credentials file can be"));
  }
  if (!content.ok()) return content.status();
  absl::Cleanup wipe = [&content] { WipeString(&*content); };
  if (absl::StripAsciiWhitespace(*content).empty()) {
    if (OpenForWriting()) return BeingWrittenError();
    // Nothing to keep aside (no corrupt-<time> copy of nothing), and nothing is removed.
    return absl::NotFoundError("the credentials file is empty");
  }
  agent::v1::Credentials credentials;
  if (absl::Status parsed = ParseJson(*content, "it", &credentials); !parsed.ok()) {
    // Cut short by a writer still at it: moving it aside now would take their write with it.
    if (OpenForWriting()) return BeingWrittenError();
    return Quarantine(parsed.message());
  }
  if (absl::Status valid = ValidateCredentials(credentials); !valid.ok()) {
    return Quarantine(valid.message());
  }
  return credentials;
}

absl::StatusOr<std::unique_ptr<StoreLock>> FileCredentialStore::Lock() {
  struct Held final : StoreLock {
    explicit Held(FileLock l) : lock(std::move(l)) {}
    FileLock lock;
  };
  if (absl::Status dir_ok = EnsurePrivateDir(dir_, uid_, LooseFolder::kTighten); !dir_ok.ok()) {
    return dir_ok;
  }
  absl::StatusOr<FileLock> lock = FileLock::Acquire(CredentialsLockFile(path_));
  if (!lock.ok()) return lock.status();
  return std::make_unique<Held>(*std::move(lock));
}

absl::Status FileCredentialStore::Save(const agent::v1::Credentials& credentials) {
  std::string repaired;
  if (absl::Status dir_ok = EnsurePrivateDir(dir_, uid_, LooseFolder::kTighten, &repaired);
      !dir_ok.ok()) {
    return dir_ok;
  }
  if (!repaired.empty()) LogWarning("%s", repaired);
  // What is there must be the user's own before it is replaced: a file of another owner is
  // refused (docs/cli.md: never silently overwritten); one the agent cannot read is kept aside. A
  // symlink of the user's is replaced, never written through.
  struct stat st;
  if (lstat(path_.c_str(), &st) == 0) {
    if ((!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) || st.st_uid != uid_) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s is %s owned by uid %d; refusing to replace it (move it away first)", path_,
          S_ISLNK(st.st_mode)   ? "a symbolic link"
          : S_ISREG(st.st_mode) ? "a file"
                                : "not a file",
          st.st_uid));
    }
    if (S_ISREG(st.st_mode) && access(path_.c_str(), R_OK) != 0) {
      // Kept aside, then replaced; one that cannot be moved is not overwritten either.
      if (absl::StatusOr<std::string> aside = MoveCorruptFileAside(
              path_, "the credentials file", "it cannot be read", clock_.Now());
          !aside.ok()) {
        return absl::FailedPreconditionError(aside.status().message());
      }
    }
  }
  std::string content = ToPrettyJson(credentials);
  if (content.empty() || content.back() != '\n') content.push_back('\n');
  absl::Status written = WriteFileAtomically(path_, content);
  WipeString(&content);
  return written;
}

absl::Status FileCredentialStore::Remove() { return RemoveFileDurably(path_); }

std::string FileCredentialStore::Fingerprint() {
  struct stat st;
  if (lstat(path_.c_str(), &st) != 0) return "absent";
  return absl::StrFormat("%d:%d:%d:%d.%09d:%d.%09d:%o", st.st_dev, st.st_ino, st.st_size,
                         st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec,
                         st.st_ctim.tv_nsec, st.st_mode);
}

}  // namespace datagen
