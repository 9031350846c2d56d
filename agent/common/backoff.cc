#include "agent/common/backoff.h"

#include <algorithm>

namespace datagen {

absl::Duration ExponentialBackoff(int failures, absl::Duration first, absl::Duration most) {
  most = std::max(first, most);
  absl::Duration wait = first;
  for (int i = 1; i < failures && wait < most; ++i) wait *= 2;
  return std::min(wait, most);
}

}  // namespace datagen
