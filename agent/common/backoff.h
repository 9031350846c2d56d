// Exponential backoff, the one policy every retry in the agent follows: the device flow's
// polls after a transient failure, refreshes, saves of an unsaved token, revocations.
//
// Pure function; thread-safe.
#ifndef DATAGEN_AGENT_COMMON_BACKOFF_H_
#define DATAGEN_AGENT_COMMON_BACKOFF_H_

#include "absl/time/time.h"

namespace datagen {

// The wait after `failures` consecutive failures: `first` after one (or none), doubling with
// each further failure, never more than `most` unless `first` itself is more (then `first`).
absl::Duration ExponentialBackoff(int failures, absl::Duration first, absl::Duration most);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_BACKOFF_H_
