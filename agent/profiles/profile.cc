#include "agent/profiles/profile.h"

#include <sys/stat.h>

#include "agent/common/log.h"
#include "agent/common/text.h"

namespace datagen {

Profile::Profile(std::string name, const ProfileEnv& env, CredentialStore* store)
    : name_(std::move(name)),
      credentials_path_(ProfileCredentialsFile(env.default_credentials, name_)),
      env_(env),
      own_store_(store != nullptr ? nullptr
                                  : std::make_unique<FileCredentialStore>(credentials_path_,
                                                                          env.uid, *env.clock)),
      store_(store != nullptr ? *store : *own_store_),
      revocations_(PendingRevocationsFile(credentials_path_), env.uid, *env.clock, *env.random),
      session_(store_, *env.issuers, revocations_, *env.clock, *env.random, env.identity_max_age,
               name_, env.instance),
      broker_(*env.issuers, *env.clock, *env.random, session_, env.scope) {}

agent::v1::DiagnoseResponse Profile::Diagnose() {
  std::string issuer = env_.configured_api_url;
  if (name_ != kDefaultProfile) {
    if (std::string own = session_.LoginIssuer(); !own.empty()) issuer = std::move(own);
  }
  return Doctor(*env_.transport, *env_.clock, std::move(issuer), credentials_path_, env_.uid,
                revocations_, env_.env)
      .Run();
}

Profile::~Profile() {
  StopLogins();
  StopBackground();
}

void Profile::Start() {
  if (env_.background_work) {
    background_ = std::make_unique<WakeLoop>(*env_.clock, [this] { return session_.DoDueWork(); });
    session_.SetScheduleListener([this] { background_->Poke(); });
  }
  if (env_.on_login_inactive) broker_.SetInactiveListener(env_.on_login_inactive);
  // Edits of the credentials file behind the agent's back reach watchers at once. The folder
  // is created when missing; a loose one is left for the store to repair and report.
  std::string dir = Dirname(credentials_path_);
  struct stat st;
  absl::Status ready = lstat(dir.c_str(), &st) == 0
                           ? absl::OkStatus()
                           : EnsurePrivateDir(dir, env_.uid, LooseFolder::kRefuse);
  if (!ready.ok()) {
    LogWarning("%s", ready.message());
    return;
  }
  auto started = FileWatcher::Start(credentials_path_, [this] { session_.CheckFile(); });
  if (!started.ok()) {
    LogWarning("%s; file changes are noticed at the next call", started.status().message());
    return;
  }
  file_watcher_ = *std::move(started);
}

void Profile::StopLogins() { broker_.Shutdown(); }

void Profile::StopBackground() {
  file_watcher_.reset();
  if (background_) background_->Stop();
  session_.SetScheduleListener(nullptr);
}

}  // namespace datagen
