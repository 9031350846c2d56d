// Tokens of ended sessions that the server has not yet confirmed revoked, kept in a 0600 file
// beside the credentials so that a logout while offline never forgets one. The agent retries
// them with backoff until the server accepts each.
#ifndef DATAGEN_AGENT_REVOCATION_QUEUE_H_
#define DATAGEN_AGENT_REVOCATION_QUEUE_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/clock.h"
#include "agent/identity_client.h"
#include "proto/datagen/agent/internal/pending.pb.h"

namespace datagen {

// Thread-safe. Does not own `clock`.
class RevocationQueue {
 public:
  // `path` is the pending-revocations file; it is read now (a corrupt one is moved aside).
  RevocationQueue(std::string path, uid_t uid, Clock& clock);

  // Adds tokens (with their hints) due at once and persists the queue atomically before
  // returning. An error means nothing was added.
  absl::Status Add(const std::vector<std::pair<std::string, std::string>>& tokens)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Drops tokens the server has just accepted (after Add) and persists.
  void Remove(const std::vector<std::string>& tokens) ABSL_LOCKS_EXCLUDED(mu_);

  int size() ABSL_LOCKS_EXCLUDED(mu_);
  // True when `token` waits for revocation.
  bool Contains(absl::string_view token) ABSL_LOCKS_EXCLUDED(mu_);
  // When the next retry is due; InfiniteFuture when the queue is empty.
  absl::Time NextDue() ABSL_LOCKS_EXCLUDED(mu_);

  // Tries every due token once (outside the lock). Accepted ones, and ones the server refuses
  // for good (a 4xx other than 429), leave the queue; unreachable ones back off (5 s, doubling,
  // at most 10 min). Returns how many are left.
  int RetryDue(IdentityClient& identity) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status PersistLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const uid_t uid_;
  Clock& clock_;
  absl::Mutex mu_;
  agent::internal::PendingRevocations queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_REVOCATION_QUEUE_H_
