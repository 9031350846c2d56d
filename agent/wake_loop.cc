#include "agent/wake_loop.h"

#include <pthread.h>

#include <chrono>

#include "agent/common/clock.h"

namespace datagen {

WakeLoop::WakeLoop(Clock& clock, std::function<absl::Time()> work)
    : clock_(clock), work_(std::move(work)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "dg-wake-loop");
    Loop();
  });
}

WakeLoop::~WakeLoop() { Stop(); }

void WakeLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WakeLoop::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void WakeLoop::Loop() {
  while (true) {
    absl::Time next = work_();
    std::unique_lock<std::mutex> lock(mu_);
    auto woken = [this] { return poked_ || stopping_; };
    if (next == absl::InfiniteFuture()) {
      wake_.wait(lock, woken);
    } else {
      absl::Duration left = std::max(next - clock_.Monotonic(), absl::ZeroDuration());
      // At most a day per wait: steady_clock's time_point would overflow on huge durations.
      left = std::min(left, absl::Hours(24));
      wake_.wait_until(lock, std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(left),
                       woken);
    }
    if (stopping_) return;
    poked_ = false;
  }
}

}  // namespace datagen
