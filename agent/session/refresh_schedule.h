// When to refresh a session's access token: ahead of its expiry by a lead of a quarter of its
// lifetime (at least 1 s, at most 5 min), jittered down to as little as half of that, drawn once
// per token, so that a fleet whose tokens were issued together (after an outage) does not
// refresh together an hour later; and after a failure that may pass (the server unreachable)
// again with full-jitter backoff (up to 1 s doubling, at most 10 min, never under 1 s).
// Expiry is a wall-clock instant (the server's); the schedule it returns is on boot time
// (Clock::BootTime), so a stepped wall clock moves it only by what the expiry really moved, and
// a suspended machine refreshes when it wakes.
//
// Not thread-safe: its owner (Session) calls it under its own lock.
#ifndef DATAGEN_AGENT_SESSION_REFRESH_SCHEDULE_H_
#define DATAGEN_AGENT_SESSION_REFRESH_SCHEDULE_H_

#include "absl/time/time.h"
#include "agent/common/random.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

class RefreshSchedule {
 public:
  static constexpr absl::Duration kMaxLead = absl::Minutes(5);
  static constexpr absl::Duration kFirstBackoff = absl::Minutes(10);
  static constexpr absl::Duration kMinBackoff = absl::Seconds(1);
  static constexpr absl::Duration kMaxBackoff = absl::Hours(1);

  // Does not own `random`, which must outlive it.
  explicit RefreshSchedule(Random& random) : random_(random), lead_share_(DrawLeadShare()) {}

  // When `credentials` are due for a refresh, on boot time: InfiniteFuture when they cannot be
  // refreshed (no refresh token or no expiry); after a failure, when the backoff ends.
  absl::Time Due(const agent::v1::Credentials& credentials, absl::Time wall_now,
                 absl::Time boot_now) const;
  // How long before its expiry a token is no longer handed out as it is (GetToken refreshes it
  // first): `most`, or a quarter of the token's lifetime (stored_at to expiry) when that is
  // shorter, so that a server's short-lived tokens are refreshed once per lifetime, not on
  // every hand-out.
  static absl::Duration HandOutMargin(const agent::v1::Credentials& credentials,
                                      absl::Duration most);
  // The lifetime the server gave the token (stored_at to expiry); zero when unknown.
  static absl::Duration Lifetime(const agent::v1::Credentials& credentials);
  // How much validity a hand-out asking for `min_valid` needs before a refresh: `min_valid`,
  // but never more than three quarters of the token's lifetime, so that a caller asking more
  // than the server ever gives gets the freshest token rather than a refresh at every call.
  static absl::Duration NeededFor(const agent::v1::Credentials& credentials,
                                  absl::Duration min_valid);
  // A refresh failed in a way that may pass; returns how long until the next try.
  absl::Duration Failed(absl::Time boot_now);
  // A refresh succeeded, or a new session began: back to the expiry-based schedule, with a lead
  // drawn anew for the new token.
  void Reset() {
    failures_ = 0;
    lead_share_ = DrawLeadShare();
  }

 private:
  // The share of the full lead this token gets: in [1/2, 1].
  double DrawLeadShare() { return 0.5 + 0.5 * random_.Uniform01(); }

  Random& random_;
  double lead_share_;
  int failures_ = 0;
  absl::Time retry_at_ = absl::InfinitePast();
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_REFRESH_SCHEDULE_H_
