// When to refresh a session's access token: ahead of its expiry by a quarter of its lifetime (at
// least 1 s, at most 5 min), and after a failure that may pass (the server unreachable) again
// with backoff (1 s doubling, at most 5 min). Expiry is a wall-clock instant (the server's); the
// schedule it returns is on the monotonic clock, so a stepped wall clock moves it only by what
// the expiry really moved.
//
// Not thread-safe: its owner (Session) calls it under its own lock.
#ifndef DATAGEN_AGENT_REFRESH_SCHEDULE_H_
#define DATAGEN_AGENT_REFRESH_SCHEDULE_H_

#include "absl/time/time.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

class RefreshSchedule {
 public:
  static constexpr absl::Duration kMaxLead = absl::Minutes(5);
  static constexpr absl::Duration kMaxBackoff = absl::Minutes(5);

  // When `credentials` are due for a refresh, on the monotonic clock: InfiniteFuture when they
  // cannot be refreshed (no refresh token or no expiry); after a failure, when the backoff ends.
  absl::Time Due(const agent::v1::Credentials& credentials, absl::Time wall_now,
                 absl::Time mono_now) const;
  // A refresh failed in a way that may pass; returns how long until the next try.
  absl::Duration Failed(absl::Time mono_now);
  // A refresh succeeded, or a new session began: back to the expiry-based schedule.
  void Reset() { failures_ = 0; }

 private:
  int failures_ = 0;
  absl::Time retry_at_ = absl::InfinitePast();
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_REFRESH_SCHEDULE_H_
