#include "agent/profiles/profile_set.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/text.h"

namespace datagen {

absl::Status CheckProfileName(absl::string_view name) {
  if (name.empty() || IsValidProfileName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "a profile name is 1 to 32 characters of a-z, 0-9, '_' and '-', starting with a letter or "
      "digit");
}

namespace {

// The names of the folders under `folder` that are profile names (other entries are ignored).
std::vector<std::string> ProfileFolders(const std::string& folder) {
  std::vector<std::string> names;
  DIR* dir = opendir(folder.c_str());
  if (dir == nullptr) return names;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == kDefaultProfile || !IsValidProfileName(name)) continue;
    struct stat st;
    std::string path = absl::StrCat(folder, "/", name);
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

ProfileSet::ProfileSet(const ProfileEnv& env, CredentialStore* default_store) : env_(env) {
  absl::MutexLock lock(&mu_);
  default_ = InsertLocked(std::make_unique<Profile>(kDefaultProfile, env_, default_store));
  for (const std::string& name : ProfileFolders(ProfilesFolder(env_.default_credentials))) {
    if (profiles_.size() >= kMaxProfiles) break;
    InsertLocked(std::make_unique<Profile>(name, env_, nullptr));
  }
}

void ProfileSet::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopped_) return;
  started_ = true;
  for (auto& [name, profile] : profiles_) profile->Start();
}

ProfileSet::~ProfileSet() {
  StopLogins();
  StopBackground();
}

Profile* ProfileSet::InsertLocked(std::unique_ptr<Profile> profile) {
  Profile* raw = profile.get();
  profiles_[raw->name()] = std::move(profile);
  if (started_) raw->Start();
  if (raw->name() != kDefaultProfile)
    LogInfo("profile %s: %s", raw->name(), raw->credentials_path());
  for (auto& [handle, listener] : listeners_) listener(*raw);
  return raw;
}

absl::Status ProfileSet::CanLoadLocked() const {
  if (stopped_) return absl::UnavailableError("the agent is stopping");
  if (profiles_.size() >= kMaxProfiles) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the agent serves at most ", kMaxProfiles, " profiles at once"));
  }
  return absl::OkStatus();
}

Profile* ProfileSet::Find(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = profiles_.find(ProfileOrDefault(name));
  return it == profiles_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Profile*> ProfileSet::Load(absl::string_view name, bool create) {
  if (absl::Status valid = CheckProfileName(name); !valid.ok()) return valid;
  std::string key = ProfileOrDefault(name);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = profiles_.find(key); it != profiles_.end()) return it->second.get();
    if (absl::Status can = CanLoadLocked(); !can.ok()) return can;
  }
  // Outside the set's lock, so that Find (every call's path) never waits for a disk: the
  // folder's test and the profile's construction (it reads its pending revocations).
  std::string folder = Dirname(ProfileCredentialsFile(env_.default_credentials, key));
  struct stat st;
  if (!create && lstat(folder.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("there is no profile ", key));
  }
  auto built = std::make_unique<Profile>(key, env_, nullptr);
  // Declared after `built`: the lock is released before a profile that lost a race to another
  // caller's is destroyed (it was never started).
  absl::MutexLock lock(&mu_);
  if (auto it = profiles_.find(key); it != profiles_.end()) return it->second.get();
  if (absl::Status can = CanLoadLocked(); !can.ok()) return can;
  return InsertLocked(std::move(built));
}

std::vector<Profile*> ProfileSet::Loaded() {
  absl::MutexLock lock(&mu_);
  std::vector<Profile*> loaded = {default_};
  for (auto& [name, profile] : profiles_) {
    if (profile.get() != default_) loaded.push_back(profile.get());
  }
  return loaded;
}

std::vector<Profile*> ProfileSet::LoadAll() {
  for (const std::string& name : ProfileFolders(ProfilesFolder(env_.default_credentials))) {
    // NotFound (the folder went since it was listed) and a full or stopping set end nothing.
    absl::StatusOr<Profile*> loaded = Load(name, /*create=*/false);
    if (!loaded.ok() && !absl::IsNotFound(loaded.status())) break;
  }
  return Loaded();
}

uint64_t ProfileSet::AddLoadListener(std::function<void(Profile&)> listener) {
  absl::MutexLock lock(&mu_);
  uint64_t handle = next_listener_++;
  listener(*default_);
  for (auto& [name, profile] : profiles_) {
    if (profile.get() != default_) listener(*profile);
  }
  listeners_[handle] = std::move(listener);
  return handle;
}

void ProfileSet::RemoveLoadListener(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  listeners_.erase(handle);
}

bool ProfileSet::AnyLoginActive() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, profile] : profiles_) {
    if (profile->broker().active()) return true;
  }
  return false;
}

std::vector<Profile*> ProfileSet::StopLoading() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  std::vector<Profile*> all;
  for (auto& [name, profile] : profiles_) all.push_back(profile.get());
  return all;
}

void ProfileSet::StopLogins() {
  // Without the set's lock: a broker's inactive listener may ask AnyLoginActive.
  for (Profile* profile : StopLoading()) profile->StopLogins();
}

void ProfileSet::StopBackground() {
  for (Profile* profile : StopLoading()) profile->StopBackground();
}

}  // namespace datagen
