#include "agent/refresh_schedule.h"

#include <algorithm>

#include "agent/common/backoff.h"
#include "agent/common/proto_time.h"

namespace datagen {

absl::Time RefreshSchedule::Due(const agent::v1::Credentials& credentials, absl::Time wall_now,
                                absl::Time mono_now) const {
  if (credentials.refresh_token().empty() || !credentials.has_token_expires_at()) {
    return absl::InfiniteFuture();
  }
  if (failures_ > 0) return retry_at_;
  absl::Time expires = ToTime(credentials.token_expires_at());
  absl::Time issued = credentials.has_stored_at() ? ToTime(credentials.stored_at()) : expires;
  absl::Duration lead = std::clamp((expires - issued) / 4, absl::Seconds(1), kMaxLead);
  return mono_now + (expires - lead - wall_now);
}

absl::Duration RefreshSchedule::Failed(absl::Time mono_now) {
  absl::Duration wait = ExponentialBackoff(++failures_, absl::Seconds(1), kMaxBackoff);
  retry_at_ = mono_now + wait;
  return wait;
}

}  // namespace datagen
