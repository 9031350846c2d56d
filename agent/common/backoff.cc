#include "agent/common/backoff.h"

#include <algorithm>

namespace datagen {

absl::Duration ExponentialBackoff(int failures, absl::Duration first, absl::Duration most) {
  most = std::max(first, most);
  absl::Duration wait = first;
  for (int i = 1; i < failures && wait < most; ++i) wait *= 2;
  return std::min(wait, most);
}

absl::Duration FullJitter(absl::Duration wait, Random& random, absl::Duration floor) {
  if (wait <= floor) return wait;
  double share = std::clamp(random.Uniform01(), 0.0, 1.0);
  return floor + (wait - floor) * share;
}

}  // namespace datagen
