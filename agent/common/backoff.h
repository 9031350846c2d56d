// Exponential backoff, the one policy every retry in the agent follows: the device flow's
// polls after a transient failure, refreshes, saves of an unsaved token, revocations.
//
// Pure function; thread-safe.
#ifndef DATAGEN_AGENT_COMMON_BACKOFF_H_
#define DATAGEN_AGENT_COMMON_BACKOFF_H_

#include "absl/time/time.h"
#include "agent/common/random.h"

namespace datagen {

// The wait after `failures` consecutive failures: `first` after one (or none), doubling with
// each further failure, never more than `most` unless `first` itself is more (then `first`).
absl::Duration ExponentialBackoff(int failures, absl::Duration first, absl::Duration most);

// Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): a wait drawn uniformly
// from [`floor`, `wait`], so that agents that failed together (a server outage, a VPN that
// reconnects a whole office) do not retry together. Random 1.0 gives `wait` itself.
absl::Duration FullJitter(absl::Duration wait, Random& random,
                          absl::Duration floor = absl::ZeroDuration());

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_BACKOFF_H_
