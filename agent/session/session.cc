// Session: its state (the credentials, the expired mark, the schedule), the one revocation
// path and the watchers. The reads are in session_reads.cc, the changes and the background work
// in session_changes.cc.
#include "agent/session/session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/common/log.h"
#include "agent/common/proto_time.h"
#include "agent/common/secret_memory.h"

namespace datagen {

Session::Session(CredentialStore& store, Issuers& issuers, RevocationQueue& revocations,
                 Clock& clock, Random& random, absl::Duration identity_max_age, std::string profile,
                 std::string instance)
    : profile_(std::move(profile)),
      issuers_(issuers),
      store_(store),
      revocations_(revocations),
      clock_(clock),
      credentials_(store, revocations, random),
      identity_(identity_max_age),
      refresh_schedule_(random),
      watchers_(profile_, std::move(instance)) {}

Session::~Session() {
  absl::MutexLock lock(&mu_);
  WipeString(&expired_token_);
}

std::string Session::IssuerOf(const agent::v1::Credentials& credentials) const {
  return issuers_.OfRecord(credentials.api_url());
}

SessionContext Session::ContextLocked(const agent::v1::Credentials& credentials) {
  SessionContext context;
  context.issuer = IssuerOf(credentials);
  // A profile other than the default one records the issuer it signed in at: that is no
  // surprise worth a warning. The default one warns, as it always did, when it differs.
  context.configured_issuer = profile_ == kDefaultProfile ? issuers_.configured() : context.issuer;
  context.revocations_pending = revocations_.size();
  context.unsaved = credentials_.unsaved();
  context.unsaved_error = credentials_.unsaved_error();
  return context;
}

std::vector<RevocationQueue::Token> Session::TokensOf(const agent::v1::Credentials& credentials,
                                                      const std::string& issuer) {
  std::vector<RevocationQueue::Token> tokens = {{credentials.token(), "access_token", issuer}};
  if (!credentials.refresh_token().empty()) {
    tokens.push_back({credentials.refresh_token(), "refresh_token", issuer});
  }
  return tokens;
}

absl::Status Session::RevokeAtIssuer(const RevocationQueue::Token& token) {
  return issuers_.For(issuers_.OfRecord(token.api_url))->identity.Revoke(token.token, token.hint);
}

bool Session::QueueRevocation(const agent::v1::Credentials& credentials,
                              const std::string& issuer) {
  if (absl::Status queued = revocations_.Add(TokensOf(credentials, issuer)); !queued.ok()) {
    LogWarning("could not record tokens for revocation: %s", queued.message());
    return false;
  }
  ScheduleChanged();  // the wake loop revokes them now
  return true;
}

void Session::SetScheduleListener(std::function<void()> on_schedule_change) {
  absl::MutexLock lock(&listener_mu_);
  on_schedule_change_ = std::move(on_schedule_change);
}

void Session::ScheduleChanged() {
  absl::MutexLock lock(&listener_mu_);
  if (on_schedule_change_) on_schedule_change_();
}

// --- State and watchers ---------------------------------------------------------------------

absl::StatusOr<agent::v1::Credentials> Session::CurrentLocked() {
  bool changed = false;
  absl::StatusOr<agent::v1::Credentials> current = credentials_.Current(&changed);
  if (changed) {
    LogInfo("the credentials file changed behind the agent's back; reloaded");
    PublishLocked(agent::v1::SESSION_CHANGE_FILE_CHANGED);
    ScheduleChanged();
  }
  return current;
}

bool Session::ExpiredLocked() const {
  const agent::v1::Credentials* cached = credentials_.cached();
  return cached != nullptr && !expired_token_.empty() && cached->token() == expired_token_;
}

void Session::ClearExpiredLocked() {
  WipeString(&expired_token_);
  expired_reason_.clear();
}

absl::StatusOr<agent::v1::Credentials> Session::UsableLocked(Warnings* warnings,
                                                             bool even_if_expired) {
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  AddRepairs(credentials_.TakeWarnings(), warnings);
  absl::Status problem = credentials_.TakeProblem();
  if (!problem.ok() && absl::IsUnauthenticated(current.status())) {
    return problem;  // reported once; then the session is simply signed out
  }
  if (absl::IsUnauthenticated(current.status()) && revocations_.size() > 0) {
    return NotSignedInError(revocations_.size());
  }
  if (current.ok() && ExpiredLocked() && !even_if_expired) return ExpiredError(expired_reason_);
  return current;
}

void Session::MarkExpiredLocked(const std::string& token, absl::string_view why) {
  (void)CurrentLocked();  // another agent may have refreshed meanwhile
  const agent::v1::Credentials* cached = credentials_.cached();
  if (cached == nullptr || cached->token() != token || ExpiredLocked()) return;
  ReplaceSecret(&expired_token_, token);
  expired_reason_ = std::string(why);
  LogWarning("the session expired: %s", why);
  PublishLocked(agent::v1::SESSION_CHANGE_EXPIRED);
}

agent::v1::SessionSnapshot Session::SnapshotLocked() {
  agent::v1::SessionSnapshot snapshot;
  if (const agent::v1::Credentials* cached = credentials_.cached(); cached == nullptr) {
    snapshot.set_state(agent::v1::SESSION_STATE_SIGNED_OUT);
  } else {
    snapshot.set_state(ExpiredLocked() ? agent::v1::SESSION_STATE_EXPIRED
                                       : agent::v1::SESSION_STATE_SIGNED_IN);
    snapshot.set_email(cached->email());
    snapshot.set_active_org_slug(cached->active_org_slug());
    if (cached->has_token_expires_at()) {
      *snapshot.mutable_token_expires_at() = cached->token_expires_at();
    }
  }
  if (pending_login_) *snapshot.mutable_pending_login() = *pending_login_;
  snapshot.set_revocations_pending(revocations_.size());
  return snapshot;
}

void Session::PublishLocked(agent::v1::SessionChange change) {
  watchers_.Publish(change, SnapshotLocked());
}

uint64_t Session::AddWatcher(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  (void)CurrentLocked();
  return watchers_.Add(watcher, SnapshotLocked());
}

void Session::RemoveWatcher(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  watchers_.Remove(handle);
}

void Session::CheckFile() {
  absl::MutexLock lock(&mu_);
  (void)CurrentLocked();
}

void Session::NoteLoginPending(const agent::v1::DeviceCode& code) {
  absl::MutexLock lock(&mu_);
  pending_login_ = code;
  PublishLocked(agent::v1::SESSION_CHANGE_LOGIN_PENDING);
}

void Session::PublishRestarting() {
  absl::MutexLock lock(&mu_);
  PublishLocked(agent::v1::SESSION_CHANGE_AGENT_RESTARTING);
}

void Session::PublishStopping() {
  absl::MutexLock lock(&mu_);
  PublishLocked(agent::v1::SESSION_CHANGE_AGENT_STOPPING);
}

std::optional<agent::v1::DeviceCode> Session::PendingLogin() {
  absl::MutexLock lock(&mu_);
  return pending_login_;
}

void Session::NoteLoginEnded() {
  absl::MutexLock lock(&mu_);
  if (!pending_login_) return;
  pending_login_.reset();
  PublishLocked(agent::v1::SESSION_CHANGE_LOGIN_ENDED);
}

absl::Status Session::SaveLocked(const agent::v1::Credentials& credentials,
                                 agent::v1::SessionChange change) {
  if (absl::Status saved = credentials_.Save(credentials); !saved.ok()) return saved;
  PublishLocked(change);
  return absl::OkStatus();
}

}  // namespace datagen
