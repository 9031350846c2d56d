// One profile (agent.proto "Profiles"): a complete session of its own. Its credentials file and
// pending revocations (paths.h ProfileCredentialsFile), the Session over them, its LoginBroker
// (logins of different profiles run at once; callers of one profile share one flow), its checks
// (Diagnose), its background work (a WakeLoop: refresh, revocations and confirmations on its own
// schedule, with its own backoff) and the FileWatcher that notices edits of its file.
//
// Thread-safety: the parts are thread-safe; Start and the two Stops are called by the owner
// (ProfileSet), once each, in that order. Does not own what ProfileEnv points to.
#ifndef DATAGEN_AGENT_PROFILES_PROFILE_H_
#define DATAGEN_AGENT_PROFILES_PROFILE_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "agent/common/clock.h"
#include "agent/common/paths.h"
#include "agent/common/random.h"
#include "agent/http/http_transport.h"
#include "agent/oauth/issuers.h"
#include "agent/runtime/file_watcher.h"
#include "agent/runtime/wake_loop.h"
#include "agent/session/doctor.h"
#include "agent/session/login_broker.h"
#include "agent/session/session.h"
#include "agent/store/credential_store.h"
#include "agent/store/revocation_queue.h"

namespace datagen {

// What every profile of one agent shares. The references must outlive the profiles.
struct ProfileEnv {
  HttpTransport* transport = nullptr;
  Issuers* issuers = nullptr;
  Clock* clock = nullptr;
  Random* random = nullptr;
  // The default profile's credentials file; the others live in folders beside it.
  std::string default_credentials;
  uid_t uid = 0;
  // WatchEvent.agent_instance, one for every profile of the agent (WatchHub::NewInstance).
  std::string instance;
  absl::Duration identity_max_age = absl::Seconds(60);
  std::string scope;
  std::string configured_api_url;  // for the doctor's checks
  EnvLookup env;
  // Background work on a wake loop per profile; off only in tests that run it by hand.
  bool background_work = true;
  // Called each time a profile's login broker turns inactive (the upgrade hand-over waits).
  std::function<void()> on_login_inactive;
};

class Profile {
 public:
  // `store`: replaces the profile's credentials file (tests); null: the file's own store.
  Profile(std::string name, const ProfileEnv& env, CredentialStore* store = nullptr);
  ~Profile();

  // Starts the background work and the file watcher (creating the profile's folder, 0700, when
  // missing). A watcher that cannot start is logged: changes are then noticed at the next call.
  void Start();
  // Cancels a login in progress and joins its thread (Agent::Stop step 2).
  void StopLogins();
  // Stops the file watcher and the background work, and joins them (Agent::Stop step 4).
  void StopBackground();

  const std::string& name() const { return name_; }
  const std::string& credentials_path() const { return credentials_path_; }
  Session& session() { return session_; }
  LoginBroker& broker() { return broker_; }
  // `datagen auth doctor`'s agent side for this profile: the default profile against the
  // agent's configured issuer (a session issued elsewhere is worth a warning there), any other
  // against the issuer it signed in at (its own, by design).
  agent::v1::DiagnoseResponse Diagnose();
  RevocationQueue& revocations() { return revocations_; }

 private:
  const std::string name_;
  const std::string credentials_path_;
  const ProfileEnv& env_;
  std::unique_ptr<CredentialStore> own_store_;  // the file's, unless a store was given
  CredentialStore& store_;
  RevocationQueue revocations_;
  Session session_;
  LoginBroker broker_;
  std::unique_ptr<WakeLoop> background_;
  std::unique_ptr<FileWatcher> file_watcher_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_PROFILES_PROFILE_H_
