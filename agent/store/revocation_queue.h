// Tokens of ended sessions that the server has not yet confirmed revoked, kept in a 0600 file
// beside the credentials so that a logout while offline never forgets one. The agent retries
// them with backoff until the server accepts each. Each token records its issuer: it is only
// ever sent there.
//
// Several agents of one user may share the file (docs/agent.md "Security"): every change takes the
// lock beside it (pending-revocations.lock), re-reads the file and merges, so no agent erases
// another's entries. A corrupt file is moved aside (kept, never overwritten); a file that
// cannot be read (another owner, a symlink, no permission) is never overwritten: changes fail.
#ifndef DATAGEN_AGENT_STORE_REVOCATION_QUEUE_H_
#define DATAGEN_AGENT_STORE_REVOCATION_QUEUE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/common/clock.h"
#include "agent/common/random.h"
#include "proto/datagen/agent/internal/pending.pb.h"

namespace datagen {

// Thread-safe. Does not own `clock`.
class RevocationQueue {
 public:
  struct Token {
    std::string token;
    std::string hint;     // "access_token" or "refresh_token"
    std::string api_url;  // the issuer that issued it
  };
  // Revokes one token at its issuer (RFC 7009): OK when accepted; an error WorthRetrying keeps
  // it (retried later); any other error means refused for good (dropped).
  using Revoke = std::function<absl::Status(const Token& token)>;

  // `path` is the pending-revocations file; it is read now.
  // `random`: the jitter of the retries (common/random.h); not owned.
  RevocationQueue(std::string path, uid_t uid, Clock& clock, Random& random);

  // Adds tokens due at once and persists the queue atomically before returning. An error
  // means nothing was added.
  absl::Status Add(const std::vector<Token>& tokens) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops tokens the server has just accepted and persists.
  void Remove(const std::vector<std::string>& tokens) ABSL_LOCKS_EXCLUDED(mu_);

  // As of the last read of the file (each change re-reads it; Reload too).
  int size() ABSL_LOCKS_EXCLUDED(mu_);
  bool Contains(absl::string_view token) ABSL_LOCKS_EXCLUDED(mu_);
  // When the next retry is due, on the clock's monotonic time; InfiniteFuture when empty.
  absl::Time NextDue() ABSL_LOCKS_EXCLUDED(mu_);
  // Re-reads the file (another agent may have changed it).
  void Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // Tries every due token once (outside every lock). Accepted ones, and ones the server refuses
  // for good, leave the queue; unreachable ones back off (5 s, doubling, at most 10 min).
  // Returns how many are left.
  int RetryDue(const Revoke& revoke) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether a failed revocation is kept to be tried again: the server could not be reached
  // (Unavailable), this installation could not send it (Internal: the HTTP helper), or the
  // agent stopped while it was under way (Cancelled). Any other error is the server refusing
  // for good.
  static bool WorthRetrying(const absl::Status& revoked);

  // Backoff after `attempts` failed attempts.
  // The wait before the next try after `attempts` failed ones: full jitter over 5 s doubling
  // to 10 min, never under 1 s.
  absl::Duration RetryDelay(int attempts);

 private:
  // Under the file lock: reads the file into queue_. A corrupt file is moved aside (then the
  // queue is what remains in memory of it: nothing). Errors when it cannot be read.
  absl::Status ReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `change` on the freshly read queue under the file lock, then writes it.
  absl::Status Update(const std::function<void(agent::internal::PendingRevocations&)>& change)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const std::string lock_path_;
  const uid_t uid_;
  Clock& clock_;
  Random& random_;
  absl::Mutex mu_;
  agent::internal::PendingRevocations queue_ ABSL_GUARDED_BY(mu_);
  // This agent's own backoff per token, on the monotonic clock. Tokens it has not tried yet
  // (new, or added by another agent) are due at once.
  std::map<std::string, absl::Time> next_due_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_STORE_REVOCATION_QUEUE_H_
