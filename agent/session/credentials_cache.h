// The session's credentials as the store holds them, kept in memory and read again only when
// the file changed (its fingerprint: one stat), with what each read found that a person has not
// been told yet (repairs, a corrupt file moved aside). It also finishes a logout that a kill cut
// short, and keeps a refreshed token that could not be saved (with rotation the old refresh
// token is already dead): used as the session, and saved again until that works.
//
// Not thread-safe: its owner (Session) calls it under its own lock, after taking the store's
// Lock for a read-modify-write. Does not own the store or the queue. Wipes the tokens it drops.
#ifndef DATAGEN_AGENT_SESSION_CREDENTIALS_CACHE_H_
#define DATAGEN_AGENT_SESSION_CREDENTIALS_CACHE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/common/random.h"
#include "agent/store/credential_store.h"
#include "agent/store/revocation_queue.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

class CredentialsCache {
 public:
  // `random`: the jitter of the retries of an unsaved token; not owned.
  CredentialsCache(CredentialStore& store, RevocationQueue& revocations, Random& random)
      : store_(store), revocations_(revocations), random_(random) {}
  ~CredentialsCache();
  CredentialsCache(const CredentialsCache&) = delete;
  CredentialsCache& operator=(const CredentialsCache&) = delete;

  // The current credentials, read again when the file changed. *changed is set when their
  // content changed behind the owner's back (not a chmod, not a rewrite with the same content).
  // No file: Unauthenticated (NotSignedInError). A corrupt file: DataLoss (moved aside), also
  // kept as the unreported problem. At the first read, a file whose token is queued for
  // revocation is the remains of a logout cut short: removed.
  absl::StatusOr<agent::v1::Credentials> Current(bool* changed);

  // The credentials as of the last Current or Save, without I/O; nullptr when none.
  const agent::v1::Credentials* cached() const { return cached_ ? &*cached_ : nullptr; }
  // Whether memory holds all there is to tell: read at least once, nothing unreported, no
  // unsaved token, and the file unchanged since (one stat). When there are no credentials,
  // also that the last read found no file (not an unreadable or unsafe one).
  bool AnswerableFromMemory();

  // What reads found that a person has not been told yet; each is handed out once.
  std::vector<std::string> TakeWarnings();
  absl::Status TakeProblem();

  // Stores `credentials` (atomically) and caches them; a kept unsaved token is then saved.
  absl::Status Save(const agent::v1::Credentials& credentials);
  // Deletes the credentials file and forgets the session.
  absl::Status Remove();

  // A refresh produced `refreshed` from the session whose token was `replaced`, and it could
  // not be saved (`error`): kept as the session, saved again by RetryUnsaved from
  // `mono_now` + backoff (5 s doubling, at most 5 min). If the file is rewritten meanwhile from
  // `replaced` (another agent's org switch), the refreshed tokens are carried over; any other
  // change gives them up.
  void KeepUnsaved(agent::v1::Credentials refreshed, const std::string& replaced,
                   absl::string_view error, absl::Time mono_now);
  // Tries to save the kept token; true when there is none left to save.
  bool RetryUnsaved(absl::Time mono_now);
  bool unsaved() const { return unsaved_; }
  const std::string& unsaved_error() const { return unsaved_error_; }
  // When the kept token's save is next due (monotonic); InfiniteFuture when there is none.
  absl::Time unsaved_due() const { return unsaved_ ? unsaved_retry_at_ : absl::InfiniteFuture(); }

 private:
  void SetCached(std::optional<agent::v1::Credentials> credentials);
  void DropUnsaved();
  // The read for Current: the store's content, the interrupted logout finished, kept unsaved
  // tokens carried over.
  absl::StatusOr<agent::v1::Credentials> Load();

  CredentialStore& store_;
  RevocationQueue& revocations_;
  Random& random_;
  std::string fingerprint_;
  bool loaded_once_ = false;
  absl::Status last_load_;  // of the store, as of fingerprint_
  std::vector<std::string> unreported_warnings_;
  absl::Status unreported_problem_;
  std::optional<agent::v1::Credentials> cached_;
  bool unsaved_ = false;
  std::string unsaved_from_token_;  // the token the unsaved one replaced
  std::string unsaved_error_;
  int unsaved_failures_ = 0;
  absl::Time unsaved_retry_at_ = absl::InfiniteFuture();
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_CREDENTIALS_CACHE_H_
