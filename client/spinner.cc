#include "client/spinner.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace datagen::cli {
namespace {

constexpr const char* kGlyphs[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr char kEraseLine[] = "\r\033[K";

void WriteAll(int fd, const std::string& text) {
  ssize_t unused = write(fd, text.data(), text.size());
  (void)unused;
}

}  // namespace

std::string Spinner::Frame(int tick, absl::Duration left) {
  int64_t seconds = std::max<int64_t>(0, absl::ToInt64Seconds(left));
  return absl::StrFormat("%s Waiting for approval in the browser… %d:%02d left", kGlyphs[tick % 10],
                         seconds / 60, seconds % 60);
}

Spinner::Spinner(int fd, absl::Time deadline) : fd_(fd) {
  thread_ = std::thread([this, deadline] {
    for (int tick = 0; !stop_.WaitForNotificationWithTimeout(absl::Milliseconds(100)); ++tick) {
      WriteAll(fd_, kEraseLine + Frame(tick, deadline - absl::Now()));
    }
    WriteAll(fd_, kEraseLine);
  });
}

Spinner::~Spinner() {
  stop_.Notify();
  thread_.join();
}

}  // namespace datagen::cli
