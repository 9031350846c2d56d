#include "agent/session/credentials_cache.h"

#include <utility>

#include "agent/common/backoff.h"
#include "agent/common/log.h"
#include "agent/common/secret_memory.h"
#include "agent/session/status_reply.h"

namespace datagen {
namespace {

absl::Duration UnsavedBackoff(int failures, Random& random) {
  return FullJitter(ExponentialBackoff(failures, absl::Seconds(5), absl::Minutes(5)), random,
                    absl::Seconds(1));
}

}  // namespace

CredentialsCache::~CredentialsCache() {
  WipeCredentials(&cached_);
  WipeString(&unsaved_from_token_);
}

void CredentialsCache::SetCached(std::optional<agent::v1::Credentials> credentials) {
  WipeCredentials(&cached_);
  cached_ = std::move(credentials);
}

void CredentialsCache::DropUnsaved() {
  unsaved_ = false;
  WipeString(&unsaved_from_token_);
  unsaved_failures_ = 0;
  unsaved_retry_at_ = absl::InfiniteFuture();
}

absl::StatusOr<agent::v1::Credentials> CredentialsCache::Load() {
  absl::StatusOr<agent::v1::Credentials> loaded = store_.Load(&unreported_warnings_);
  if (IsBeingWritten(loaded.status())) return loaded;  // nothing to conclude yet (Current)
  if (absl::IsDataLoss(loaded.status())) unreported_problem_ = loaded.status();
  if (!loaded_once_ && loaded.ok() && revocations_.Contains(loaded->token())) {
    // A logout records the tokens for revocation, then removes the file. An agent killed in
    // between (kill -9, power loss) leaves both: finish that logout, so that a token on its
    // way to revocation is never served as the session. Only at start: later, a file with
    // such a token is one a person put back by hand, and is theirs.
    LogInfo("finishing a logout that was cut short before the credentials file was removed");
    if (absl::Status removed = store_.Remove(); removed.ok()) {
      loaded = absl::NotFoundError("no credentials file");
    } else {
      LogWarning("could not finish the interrupted logout: %s", removed.message());
    }
  }
  if (unsaved_ && loaded.ok() && loaded->token() == unsaved_from_token_ && cached_) {
    // Rewritten behind our back (another agent's org switch) from the session before the
    // refresh this agent could not save: keep the refreshed tokens, the only live ones.
    loaded->set_token(cached_->token());
    loaded->set_refresh_token(cached_->refresh_token());
    *loaded->mutable_token_expires_at() = cached_->token_expires_at();
    *loaded->mutable_stored_at() = cached_->stored_at();
  } else if (unsaved_) {
    LogWarning(
        "the credentials changed behind the agent's back; an unsaved refreshed token is "
        "given up");
    DropUnsaved();
  }
  return loaded;
}

absl::StatusOr<agent::v1::Credentials> CredentialsCache::Current(bool* changed) {
  *changed = false;
  std::string fingerprint = store_.Fingerprint();
  if (fingerprint == fingerprint_ && (fingerprint != "absent" || unsaved_) && cached_) {
    return *cached_;
  }
  bool touched = loaded_once_ && fingerprint != fingerprint_;
  absl::StatusOr<agent::v1::Credentials> loaded = Load();
  if (IsBeingWritten(loaded.status())) {
    // A writer is still at it: the session stays what it was, and nothing is reported. The
    // fingerprint is left stale, so that the next look (its close, or any call) loads again.
    if (cached_) return *cached_;
    return NotSignedInError();
  }
  last_load_ = loaded.status();
  // Loading may repair permissions (changing the fingerprint): take it afterwards.
  fingerprint_ = store_.Fingerprint();
  loaded_once_ = true;
  *changed =
      touched && (loaded.ok() != cached_.has_value() ||
                  (loaded.ok() && loaded->SerializeAsString() != cached_->SerializeAsString()));
  SetCached(loaded.ok() ? std::optional<agent::v1::Credentials>(*loaded) : std::nullopt);
  if (absl::IsNotFound(loaded.status())) return NotSignedInError();
  return loaded;
}

bool CredentialsCache::AnswerableFromMemory() {
  if (!loaded_once_ || !unreported_warnings_.empty() || !unreported_problem_.ok() || unsaved_ ||
      store_.Fingerprint() != fingerprint_) {
    return false;
  }
  return cached_.has_value() || absl::IsNotFound(last_load_);
}

std::vector<std::string> CredentialsCache::TakeWarnings() {
  std::vector<std::string> warnings = std::move(unreported_warnings_);
  unreported_warnings_.clear();
  return warnings;
}

absl::Status CredentialsCache::TakeProblem() {
  absl::Status problem = std::move(unreported_problem_);
  unreported_problem_ = absl::OkStatus();
  return problem;
}

absl::Status CredentialsCache::Save(const agent::v1::Credentials& credentials) {
  if (absl::Status saved = store_.Save(credentials); !saved.ok()) return saved;
  DropUnsaved();
  fingerprint_ = store_.Fingerprint();
  loaded_once_ = true;
  SetCached(credentials);
  return absl::OkStatus();
}

absl::Status CredentialsCache::Remove() {
  if (absl::Status removed = store_.Remove(); !removed.ok()) return removed;
  fingerprint_ = store_.Fingerprint();
  SetCached(std::nullopt);
  DropUnsaved();
  return absl::OkStatus();
}

void CredentialsCache::KeepUnsaved(agent::v1::Credentials refreshed, const std::string& replaced,
                                   absl::string_view error, absl::Time mono_now) {
  if (!unsaved_) ReplaceSecret(&unsaved_from_token_, replaced);
  unsaved_ = true;
  unsaved_error_ = std::string(error);
  unsaved_retry_at_ = mono_now + UnsavedBackoff(++unsaved_failures_, random_);
  SetCached(std::move(refreshed));
}

bool CredentialsCache::RetryUnsaved(absl::Time mono_now) {
  if (!unsaved_ || !cached_) return true;
  agent::v1::Credentials keep = *cached_;
  if (absl::Status saved = Save(keep); !saved.ok()) {
    unsaved_error_ = std::string(saved.message());
    unsaved_retry_at_ = mono_now + UnsavedBackoff(++unsaved_failures_, random_);
    return false;
  }
  LogInfo("the refreshed token that could not be saved earlier is saved now");
  return true;
}

}  // namespace datagen
