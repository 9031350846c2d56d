#include "agent/runtime/wake_loop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "agent/common/clock.h"
#include "agent/common/log.h"

namespace datagen {

WakeLoop::WakeLoop(Clock& clock, std::function<absl::Time()> work)
    : clock_(clock), work_(std::move(work)) {
  timer_fd_.reset(timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK));
  wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!timer_fd_.valid() || !wake_fd_.valid()) {
    // Without them the agent could neither refresh nor revoke on time: fail loudly at start.
    LogError("cannot create the wake loop's timer: errno %d", errno);
    std::abort();
  }
  clock_subscription_ = clock_.Subscribe([this] { Poke(); });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "dg-wake-loop");
    Loop();
  });
}

WakeLoop::~WakeLoop() { Stop(); }  // then the descriptors close as members

void WakeLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  waiting_changed_.notify_all();
  clock_.Unsubscribe(clock_subscription_);
  Poke();
  if (thread_.joinable()) thread_.join();
}

void WakeLoop::Poke() {
  uint64_t one = 1;
  ssize_t unused = write(wake_fd_.get(), &one, sizeof(one));  // EAGAIN only when already poked
  (void)unused;
}

void WakeLoop::Wait(absl::Duration left) {
  itimerspec when = {};  // all zero: disarmed (wait for a poke only)
  if (left != absl::InfiniteDuration()) {
    // At least a nanosecond: an all-zero it_value would disarm instead of firing at once.
    when.it_value = absl::ToTimespec(std::max(left, absl::Nanoseconds(1)));
  }
  timerfd_settime(timer_fd_.get(), 0, &when, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_ = true;
    armed_ = left;
  }
  waiting_changed_.notify_all();
  pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {timer_fd_.get(), POLLIN, 0}};
  while (poll(fds, 2, -1) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_ = false;
  }
  uint64_t count;
  for (int fd : {wake_fd_.get(), timer_fd_.get()}) {
    ssize_t unused = read(fd, &count, sizeof(count));  // drain; EAGAIN when it did not fire
    (void)unused;
  }
}

absl::Duration WakeLoop::AwaitWaiting(uint64_t runs) {
  std::unique_lock<std::mutex> lock(mu_);
  waiting_changed_.wait(lock, [&] { return (runs_ >= runs && waiting_) || stopping_; });
  return waiting_ ? armed_ : absl::ZeroDuration();
}

void WakeLoop::Loop() {
  while (true) {
    absl::Time next = work_();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++runs_;
      if (stopping_) return;
    }
    Wait(next == absl::InfiniteFuture() ? absl::InfiniteDuration()
                                        : std::max(next - clock_.BootTime(), absl::ZeroDuration()));
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
  }
}

}  // namespace datagen
