// What the agent is doing for its clients: calls, streams and logins in progress, and since when
// it has been doing nothing (for an agent that exits when idle, under socket activation).
//
// Thread-safe. Does not own `clock`.
#ifndef DATAGEN_AGENT_RUNTIME_ACTIVITY_H_
#define DATAGEN_AGENT_RUNTIME_ACTIVITY_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/common/clock.h"

namespace datagen {

class Activity {
 public:
  explicit Activity(Clock& clock) : clock_(clock), idle_since_(clock.BootTime()) {}

  void Begin() ABSL_LOCKS_EXCLUDED(mu_);
  void End() ABSL_LOCKS_EXCLUDED(mu_);
  // Called (without the lock) whenever nothing is left in progress, so that a sleeper can look
  // again whether it is time to sleep. Set before calls begin, or under no concurrent calls.
  void SetIdleListener(std::function<void()> listener) ABSL_LOCKS_EXCLUDED(mu_);
  // A call answered at once (Begin and End in one): the idle period begins again now.
  void Touch() ABSL_LOCKS_EXCLUDED(mu_);
  // Since when (the clock's monotonic time) nothing has been in progress; InfiniteFuture while
  // something is.
  absl::Time IdleSince() ABSL_LOCKS_EXCLUDED(mu_);
  // How long until the agent has been idle for `idle_exit`: zero or less when it has,
  // InfiniteDuration while something is in progress or when `idle_exit` is zero (never).
  absl::Duration UntilIdleFor(absl::Duration idle_exit) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Clock& clock_;
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> idle_listener_ ABSL_GUARDED_BY(mu_);
  absl::Time idle_since_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RUNTIME_ACTIVITY_H_
