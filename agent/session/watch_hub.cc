#include "agent/session/watch_hub.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace datagen {

std::string WatchHub::NewInstance() {
  return absl::StrCat(getpid(), "-", absl::GetCurrentTimeNanos());
}

WatchHub::WatchHub(std::string profile, std::string instance)
    : instance_(instance.empty() ? NewInstance() : std::move(instance)),
      profile_(std::move(profile)) {}

uint64_t WatchHub::Add(Watcher* watcher, const agent::v1::SessionSnapshot& now) {
  uint64_t handle = next_handle_++;
  watchers_[handle] = watcher;
  agent::v1::WatchEvent initial;
  initial.set_generation(generation_);
  initial.set_change(agent::v1::SESSION_CHANGE_INITIAL);
  initial.set_agent_instance(instance_);
  initial.set_profile(profile_);
  *initial.mutable_session() = now;
  watcher->OnSessionEvent(initial);
  return handle;
}

void WatchHub::Remove(uint64_t handle) { watchers_.erase(handle); }

void WatchHub::Publish(agent::v1::SessionChange change, const agent::v1::SessionSnapshot& now) {
  agent::v1::WatchEvent event;
  event.set_generation(++generation_);
  event.set_change(change);
  event.set_agent_instance(instance_);
  event.set_profile(profile_);
  *event.mutable_session() = now;
  for (auto& [handle, watcher] : watchers_) watcher->OnSessionEvent(event);
}

}  // namespace datagen
