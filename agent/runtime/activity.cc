#include "agent/runtime/activity.h"

namespace datagen {

void Activity::Begin() {
  absl::MutexLock lock(&mu_);
  ++active_;
}

void Activity::End() {
  std::function<void()> listener;
  {
    absl::MutexLock lock(&mu_);
    if (--active_ != 0) return;
    idle_since_ = clock_.BootTime();
    listener = idle_listener_;
  }
  if (listener) listener();
}

void Activity::SetIdleListener(std::function<void()> listener) {
  absl::MutexLock lock(&mu_);
  idle_listener_ = std::move(listener);
}

void Activity::Touch() {
  absl::MutexLock lock(&mu_);
  if (active_ == 0) idle_since_ = clock_.BootTime();
}

absl::Time Activity::IdleSince() {
  absl::MutexLock lock(&mu_);
  return active_ > 0 ? absl::InfiniteFuture() : idle_since_;
}

absl::Duration Activity::UntilIdleFor(absl::Duration idle_exit) {
  absl::Time since = IdleSince();
  if (idle_exit <= absl::ZeroDuration() || since == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  return since + idle_exit - clock_.BootTime();
}

}  // namespace datagen
