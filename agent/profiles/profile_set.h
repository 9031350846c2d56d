// The profiles one agent serves (agent.proto "Profiles"), by name. The default profile is
// always loaded; another is loaded when its folder exists at start, when a call names one that
// exists on disk, or when a login or a watch names it (which creates its folder). Profiles are
// never unloaded while the agent runs, and there is no "current profile": every call says
// which one it means.
//
// Thread-safety: thread-safe. A Profile* stays valid until the set is destroyed. Load listeners
// are called with the set's lock held (before Load returns): they must not block or call back
// into the set. Lock order: the set's lock, then a session's.
#ifndef DATAGEN_AGENT_PROFILES_PROFILE_SET_H_
#define DATAGEN_AGENT_PROFILES_PROFILE_SET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "agent/profiles/profile.h"

namespace datagen {

class ProfileSet {
 public:
  // At most this many profiles are loaded at once (a name beyond: ResourceExhausted).
  static constexpr size_t kMaxProfiles = 64;

  // Loads the default profile (`default_store` replaces its file: tests), then each profile
  // with a folder of a valid name under ProfilesFolder. `env` must outlive the set. Nothing runs
  // in the background until Start.
  ProfileSet(const ProfileEnv& env, CredentialStore* default_store = nullptr);
  ~ProfileSet();

  // Starts every loaded profile (Profile::Start), and each one loaded from now on as it loads.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);

  // The loaded profile `name` ("" is the default one), or nullptr. Never touches the disk: for
  // gRPC's threads.
  Profile* Find(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // The profile `name` ("" is the default one), loaded and started first when it is not yet:
  // when its credentials file or folder exists, or when `create` (a login, a watch). NotFound
  // when it does not exist and !create: nothing was created (the profile is signed out).
  // InvalidArgument for a name that is not a profile name. May touch the disk, never with the
  // set's lock held: a Find meanwhile does not wait for it.
  absl::StatusOr<Profile*> Load(absl::string_view name, bool create) ABSL_LOCKS_EXCLUDED(mu_);
  // The loaded profiles, the default one first, then by name.
  std::vector<Profile*> Loaded() ABSL_LOCKS_EXCLUDED(mu_);
  // Loads every profile with a folder that is not loaded yet (another agent's, or one made
  // since), then returns Loaded(). Touches the disk.
  std::vector<Profile*> LoadAll() ABSL_LOCKS_EXCLUDED(mu_);
  Profile& default_profile() { return *default_; }

  // Calls `listener` at once for each loaded profile and then for each one loaded later, until
  // RemoveLoadListener returns. Returns its handle.
  uint64_t AddLoadListener(std::function<void(Profile&)> listener) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveLoadListener(uint64_t handle) ABSL_LOCKS_EXCLUDED(mu_);

  // True while a login of any profile is in progress.
  bool AnyLoginActive() ABSL_LOCKS_EXCLUDED(mu_);
  // Agent::Stop's steps 2 and 4 for every profile (no profile is loaded after the first).
  void StopLogins() ABSL_LOCKS_EXCLUDED(mu_);
  void StopBackground() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Adds `profile` (built outside the lock), starts it when the set is started and tells the
  // load listeners. Returns it.
  Profile* InsertLocked(std::unique_ptr<Profile> profile) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Unavailable once stopping, ResourceExhausted when full, else OK.
  absl::Status CanLoadLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // From now on nothing loads; returns every loaded profile.
  std::vector<Profile*> StopLoading() ABSL_LOCKS_EXCLUDED(mu_);

  const ProfileEnv& env_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Profile>> profiles_ ABSL_GUARDED_BY(mu_);
  Profile* default_ = nullptr;  // set in the constructor, then constant
  std::map<uint64_t, std::function<void(Profile&)>> listeners_ ABSL_GUARDED_BY(mu_);
  uint64_t next_listener_ ABSL_GUARDED_BY(mu_) = 1;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// InvalidArgument, saying what a profile name is, unless `name` is "" or a valid name.
absl::Status CheckProfileName(absl::string_view name);

}  // namespace datagen

#endif  // DATAGEN_AGENT_PROFILES_PROFILE_SET_H_
