// A one-line spinner with the time left, for a terminal's stderr while login waits.
#ifndef DATAGEN_CLIENT_SPINNER_H_
#define DATAGEN_CLIENT_SPINNER_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace datagen::cli {

// Draws on `fd` every 100 ms until destroyed, then erases its line. Draw nothing when `fd` is
// not a terminal (construct it only when isatty(fd)).
class Spinner {
 public:
  Spinner(int fd, absl::Time deadline);
  ~Spinner();
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

  // The text of one frame: "<glyph> Waiting for approval in the browser… 4:59 left".
  static std::string Frame(int tick, absl::Duration left);

 private:
  int fd_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_SPINNER_H_
