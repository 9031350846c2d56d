// Notices changes to one file through inotify on its folder (which covers atomic replacement by
// rename), without polling.
#ifndef DATAGEN_AGENT_RUNTIME_FILE_WATCHER_H_
#define DATAGEN_AGENT_RUNTIME_FILE_WATCHER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "agent/common/fd_io.h"

namespace datagen {

class FileWatcher {
 public:
  // Calls `on_change` (on the watcher's thread) after `path` is written, replaced, deleted or
  // has its permissions changed. The folder must exist. Unavailable when inotify cannot be used
  // (the agent then notices changes at the next call instead).
  static absl::StatusOr<std::unique_ptr<FileWatcher>> Start(const std::string& path,
                                                            std::function<void()> on_change);
  ~FileWatcher();

 private:
  FileWatcher() = default;
  void Loop();

  std::string name_;
  std::function<void()> on_change_;
  UniqueFd inotify_fd_;
  UniqueFd wake_fd_;
  std::thread thread_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RUNTIME_FILE_WATCHER_H_
