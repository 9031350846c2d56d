// The watchers of a session and the generation counter of its events: every change is one
// WatchEvent with the next generation, sent to every watcher in order (agent.proto, Watch).
//
// Not thread-safe: its owner (Session) calls it under its own lock, which is also what keeps
// events in generation order. Does not own the watchers.
#ifndef DATAGEN_AGENT_SESSION_WATCH_HUB_H_
#define DATAGEN_AGENT_SESSION_WATCH_HUB_H_

#include <cstdint>
#include <map>
#include <string>

#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

class WatchHub {
 public:
  // `profile`: the profile whose session this is, named in every event (WatchEvent.profile).
  // `instance`: WatchEvent.agent_instance, the same for every profile of one agent (empty: a
  // new one, NewInstance).
  explicit WatchHub(std::string profile = "default", std::string instance = "");
  // "<pid>-<now in ns>": one agent process, told apart from the next one with the same pid.
  static std::string NewInstance();
  // Receives events. Called with the owner's lock held: must not block and must not call back
  // into the owner.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    virtual void OnSessionEvent(const agent::v1::WatchEvent& event) = 0;
  };

  // Adds a watcher and sends it `now` as SESSION_CHANGE_INITIAL with the current generation
  // (not a new one: nothing changed). Returns the handle for Remove.
  uint64_t Add(Watcher* watcher, const agent::v1::SessionSnapshot& now);
  // After it returns the watcher gets no more calls. Unknown handles are ignored.
  void Remove(uint64_t handle);
  // Sends `change` with the session as it is now under the next generation to every watcher.
  void Publish(agent::v1::SessionChange change, const agent::v1::SessionSnapshot& now);

  uint64_t generation() const { return generation_; }
  // WatchEvent.agent_instance of every event: this process, "<pid>-<start time in ns>".
  const std::string& instance() const { return instance_; }
  const std::string& profile() const { return profile_; }
  size_t size() const { return watchers_.size(); }

 private:
  uint64_t generation_ = 0;
  const std::string instance_;
  const std::string profile_;
  std::map<uint64_t, Watcher*> watchers_;
  uint64_t next_handle_ = 1;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_WATCH_HUB_H_
