#include "agent/wake_loop.h"

#include <pthread.h>

#include "absl/time/clock.h"

namespace datagen {

WakeLoop::WakeLoop(std::function<absl::Time()> work) : work_(std::move(work)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "dg-wake-loop");
    Loop();
  });
}

WakeLoop::~WakeLoop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void WakeLoop::Poke() {
  absl::MutexLock lock(&mu_);
  poked_ = true;
}

void WakeLoop::Loop() {
  while (true) {
    absl::Time next = work_();
    absl::MutexLock lock(&mu_);
    auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return poked_ || stopping_; };
    if (next == absl::InfiniteFuture()) {
      mu_.Await(absl::Condition(&wake));
    } else {
      mu_.AwaitWithDeadline(absl::Condition(&wake), next);
    }
    if (stopping_) return;
    poked_ = false;
  }
}

}  // namespace datagen
