#include "agent/session/refresh_schedule.h"

#include <algorithm>

#include "agent/common/backoff.h"
#include "agent/common/proto_time.h"

namespace datagen {

absl::Time RefreshSchedule::Due(const agent::v1::Credentials& credentials, absl::Time wall_now,
                                absl::Time boot_now) const {
  if (credentials.refresh_token().empty() || !credentials.has_token_expires_at()) {
    return absl::InfiniteFuture();
  }
  if (failures_ > 0) return retry_at_;
  absl::Time expires = ToTime(credentials.token_expires_at());
  absl::Time issued = credentials.has_stored_at() ? ToTime(credentials.stored_at()) : expires;
  absl::Duration lead = std::clamp((expires - issued) / 4, absl::Seconds(1), kMaxLead);
  lead = std::max(absl::Seconds(1), lead * lead_share_);
  return boot_now + (expires - lead - wall_now);
}

absl::Duration RefreshSchedule::Lifetime(const agent::v1::Credentials& credentials) {
  if (!credentials.has_token_expires_at() || !credentials.has_stored_at()) {
    return absl::ZeroDuration();
  }
  absl::Duration lifetime =
      ToTime(credentials.token_expires_at()) - ToTime(credentials.stored_at());
  return std::max(lifetime, absl::ZeroDuration());
}

absl::Duration RefreshSchedule::HandOutMargin(const agent::v1::Credentials& credentials,
                                              absl::Duration most) {
  absl::Duration lifetime = Lifetime(credentials);
  return lifetime > absl::ZeroDuration() ? std::min(most, lifetime / 4) : most;
}

absl::Duration RefreshSchedule::NeededFor(const agent::v1::Credentials& credentials,
                                          absl::Duration min_valid) {
  absl::Duration lifetime = Lifetime(credentials);
  return lifetime > absl::ZeroDuration() ? std::min(min_valid, lifetime * 3 / 4) : min_valid;
}

absl::Duration RefreshSchedule::Failed(absl::Time boot_now) {
  absl::Duration wait =
      FullJitter(ExponentialBackoff(++failures_, kFirstBackoff, kMaxBackoff), random_, kMinBackoff);
  retry_at_ = boot_now + wait;
  return wait;
}

}  // namespace datagen
