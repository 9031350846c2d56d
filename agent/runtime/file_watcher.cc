#include "agent/runtime/file_watcher.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agent/common/paths.h"

namespace datagen {

absl::StatusOr<std::unique_ptr<FileWatcher>> FileWatcher::Start(const std::string& path,
                                                                std::function<void()> on_change) {
  std::unique_ptr<FileWatcher> watcher(new FileWatcher);
  watcher->name_ = path.substr(path.rfind('/') + 1);
  watcher->on_change_ = std::move(on_change);
  watcher->inotify_fd_.reset(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!watcher->inotify_fd_.valid()) {
    return absl::UnavailableError(absl::StrCat("inotify: ", std::strerror(errno)));
  }
  std::string dir = Dirname(path);
  if (inotify_add_watch(watcher->inotify_fd_.get(), dir.c_str(),
                        // Not IN_CREATE: a file created but not yet written (echo > file)
                        // would be read empty. Its IN_CLOSE_WRITE follows.
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                            IN_ONLYDIR | IN_DONT_FOLLOW) < 0) {
    return absl::UnavailableError(absl::StrCat("cannot watch ", dir, ": ", std::strerror(errno)));
  }
  watcher->wake_fd_.reset(eventfd(0, EFD_CLOEXEC));
  if (!watcher->wake_fd_.valid()) return absl::UnavailableError("cannot create an eventfd");
  watcher->thread_ = std::thread([w = watcher.get()] {
    pthread_setname_np(pthread_self(), "dg-file-watch");
    w->Loop();
  });
  return watcher;
}

FileWatcher::~FileWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t unused = write(wake_fd_.get(), &one, sizeof(one));
    (void)unused;
    thread_.join();
  }
}  // the descriptors close as members

void FileWatcher::Loop() {
  alignas(inotify_event) char buffer[16 * 1024];
  while (true) {
    pollfd fds[2] = {{inotify_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    bool relevant = false;
    while (true) {
      ssize_t n = read(inotify_fd_.get(), buffer, sizeof(buffer));
      if (n <= 0) break;
      for (char* p = buffer; p < buffer + n;) {
        auto* event = reinterpret_cast<inotify_event*>(p);
        if (event->len > 0 && name_ == event->name) relevant = true;
        if (event->mask & IN_Q_OVERFLOW) relevant = true;
        p += sizeof(inotify_event) + event->len;
      }
    }
    if (relevant) on_change_();
  }
}

}  // namespace datagen
