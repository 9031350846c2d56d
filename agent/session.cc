#include "agent/session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/backoff.h"
#include "agent/log.h"
#include "agent/proto_time.h"
#include "agent/secret_memory.h"

namespace datagen {
namespace {

constexpr absl::string_view kNotSignedIn = "not signed in";
constexpr absl::Duration kMaxRefreshLead = absl::Minutes(5);
constexpr absl::Duration kMaxRefreshBackoff = absl::Minutes(5);

const server::v1::UserMembership* FindMembership(const server::v1::UserInfo& user,
                                                 absl::string_view slug) {
  for (const auto& m : user.memberships()) {
    if (m.slug() == slug) return &m;
  }
  return nullptr;
}

// Warns when the stored active organization is no longer among the user's memberships.
void WarnIfNotMember(const agent::v1::Credentials& credentials, const server::v1::UserInfo& user,
                     std::vector<std::string>* warnings) {
  const std::string& active = credentials.active_org_slug();
  if (!active.empty() && FindMembership(user, active) == nullptr) {
    warnings->push_back(absl::StrCat("you are no longer a member of the active organization ",
                                     active, "; switch with: datagen auth org --use <slug>"));
  }
}

}  // namespace

Session::Session(CredentialStore& store, Issuers& issuers, RevocationQueue& revocations,
                 Clock& clock, absl::Duration identity_max_age)
    : store_(store),
      issuers_(issuers),
      revocations_(revocations),
      clock_(clock),
      identity_max_age_(identity_max_age) {}

Session::~Session() {
  absl::MutexLock lock(&mu_);
  WipeCredentials(&cached_);
  WipeString(&expired_token_);
  WipeString(&known_user_token_);
  WipeString(&unsaved_from_token_);
}

void Session::SetCachedLocked(agent::v1::Credentials credentials) {
  WipeCredentials(&cached_);
  cached_ = std::move(credentials);
}

std::string Session::IssuerOf(const agent::v1::Credentials& credentials) const {
  return issuers_.Resolve(credentials.api_url());
}

void Session::StandingWarningsLocked(const agent::v1::Credentials& credentials,
                                     std::vector<std::string>* warnings) {
  if (unsaved_) {
    warnings->push_back(absl::StrCat("a refreshed token could not be saved (", unsaved_error_,
                                     "); the agent keeps it in memory and retries saving it"));
  }
  std::string issuer = IssuerOf(credentials);
  if (issuer != issuers_.configured()) {
    warnings->push_back(absl::StrCat("this session was issued by ", issuer,
                                     ", but the agent is configured for ", issuers_.configured(),
                                     "; its tokens go only to ", issuer,
                                     ". To sign in at the configured server: datagen auth login"));
  }
}

agent::v1::GetStatusResponse Session::StatusReplyLocked(const agent::v1::Credentials& credentials,
                                                        const server::v1::UserInfo& user,
                                                        std::vector<std::string> warnings) {
  WarnIfNotMember(credentials, user, &warnings);
  StandingWarningsLocked(credentials, &warnings);
  agent::v1::GetStatusResponse reply;
  reply.set_email(user.email());
  reply.set_active_org_slug(credentials.active_org_slug());
  if (const auto* m = FindMembership(user, reply.active_org_slug())) reply.set_role(m->role());
  if (credentials.has_stored_at()) *reply.mutable_stored_at() = credentials.stored_at();
  if (credentials.has_token_expires_at()) {
    *reply.mutable_token_expires_at() = credentials.token_expires_at();
  }
  reply.set_api_url(IssuerOf(credentials));
  reply.set_configured_api_url(issuers_.configured());
  reply.set_revocations_pending(revocations_.size());
  for (auto& w : warnings) reply.add_warnings(std::move(w));
  return reply;
}

bool Session::QueueRevocation(const agent::v1::Credentials& credentials,
                              const std::string& issuer) {
  std::vector<RevocationQueue::Token> tokens = {{credentials.token(), "access_token", issuer}};
  if (!credentials.refresh_token().empty()) {
    tokens.push_back({credentials.refresh_token(), "refresh_token", issuer});
  }
  if (absl::Status queued = revocations_.Add(tokens); !queued.ok()) {
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
  std::string fingerprint = store_.Fingerprint();
  if (fingerprint == fingerprint_ && (fingerprint != "absent" || unsaved_) && cached_) {
    return *cached_;
  }
  bool touched = loaded_once_ && fingerprint != fingerprint_;
  absl::StatusOr<agent::v1::Credentials> loaded = store_.Load(&unreported_warnings_);
  if (absl::IsDataLoss(loaded.status())) unreported_problem_ = loaded.status();
  if (!loaded_once_ && loaded.ok() && revocations_.Contains(loaded->token())) {
    // A logout records the tokens for revocation, then removes the file. An agent killed in
    // between (kill -9, power loss) leaves both: finish that logout, so that a token on its
    // way to revocation is never served as the session. Only at start: later, a file with
    // such a token is one a person put back by hand, and is theirs.
    LogInfo("finishing a logout that was cut short before the credentials file was removed");
    if (absl::Status removed = store_.Remove(); removed.ok()) {
      loaded = absl::NotFoundError("no credentials file");
    } else {
      LogWarning("could not finish the interrupted logout: %s", removed.message());
    }
  }
  if (unsaved_ && loaded.ok() && loaded->token() == unsaved_from_token_ && cached_) {
    // Rewritten behind our back (another agent's org switch) from the session before the
    // refresh this agent could not save: keep the refreshed tokens, the only live ones.
    loaded->set_token(cached_->token());
    loaded->set_refresh_token(cached_->refresh_token());
    *loaded->mutable_token_expires_at() = cached_->token_expires_at();
    *loaded->mutable_stored_at() = cached_->stored_at();
  } else if (unsaved_) {
    LogWarning(
        "the credentials changed behind the agent's back; an unsaved refreshed token is "
        "given up");
    unsaved_ = false;
    WipeString(&unsaved_from_token_);
  }
  last_load_ = loaded.status();
  // Loading may repair permissions (changing the fingerprint): take it afterwards.
  fingerprint_ = store_.Fingerprint();
  loaded_once_ = true;
  // Watchers hear of content changes, not of a chmod or a rewrite with the same content.
  bool changed =
      touched && (loaded.ok() != cached_.has_value() ||
                  (loaded.ok() && loaded->SerializeAsString() != cached_->SerializeAsString()));
  if (loaded.ok()) {
    SetCachedLocked(*loaded);
  } else {
    WipeCredentials(&cached_);
  }
  if (changed) {
    LogInfo("the credentials file changed behind the agent's back; reloaded");
    PublishLocked(agent::v1::SESSION_CHANGE_FILE_CHANGED);
    ScheduleChanged();
  }
  if (!loaded.ok() && absl::IsNotFound(loaded.status())) {
    return absl::UnauthenticatedError(kNotSignedIn);
  }
  return loaded;
}

bool Session::ExpiredLocked() const {
  return cached_ && !expired_token_.empty() && cached_->token() == expired_token_;
}

absl::StatusOr<agent::v1::Credentials> Session::UsableLocked(std::vector<std::string>* warnings) {
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  for (auto& w : unreported_warnings_) warnings->push_back(std::move(w));
  unreported_warnings_.clear();
  if (!unreported_problem_.ok() && absl::IsUnauthenticated(current.status())) {
    absl::Status problem = std::move(unreported_problem_);
    unreported_problem_ = absl::OkStatus();
    return problem;  // reported once; then the session is simply signed out
  }
  unreported_problem_ = absl::OkStatus();
  if (absl::IsUnauthenticated(current.status()) && revocations_.size() > 0) {
    return absl::UnauthenticatedError(absl::StrCat(
        kNotSignedIn, " (", revocations_.size(),
        " token(s) of an ended session still await revocation at the server; the agent keeps "
        "retrying)"));
  }
  if (current.ok() && ExpiredLocked()) {
    return absl::UnauthenticatedError(absl::StrCat("your session expired: ", expired_reason_));
  }
  return current;
}

void Session::MarkExpiredLocked(const std::string& token, absl::string_view why) {
  (void)CurrentLocked();  // another agent may have refreshed meanwhile
  if (!cached_ || cached_->token() != token || ExpiredLocked()) return;
  ReplaceSecret(&expired_token_, token);
  expired_reason_ = std::string(why);
  LogWarning("the session expired: %s", why);
  PublishLocked(agent::v1::SESSION_CHANGE_EXPIRED);
}

agent::v1::SessionSnapshot Session::SnapshotLocked() {
  agent::v1::SessionSnapshot snapshot;
  if (!cached_) {
    snapshot.set_state(agent::v1::SESSION_STATE_SIGNED_OUT);
  } else {
    snapshot.set_state(ExpiredLocked() ? agent::v1::SESSION_STATE_EXPIRED
                                       : agent::v1::SESSION_STATE_SIGNED_IN);
    snapshot.set_email(cached_->email());
    snapshot.set_active_org_slug(cached_->active_org_slug());
    if (cached_->has_token_expires_at()) {
      *snapshot.mutable_token_expires_at() = cached_->token_expires_at();
    }
  }
  if (pending_login_) *snapshot.mutable_pending_login() = *pending_login_;
  snapshot.set_revocations_pending(revocations_.size());
  return snapshot;
}

void Session::PublishLocked(agent::v1::SessionChange change) {
  agent::v1::WatchEvent event;
  event.set_generation(++generation_);
  event.set_change(change);
  *event.mutable_session() = SnapshotLocked();
  for (auto& [handle, watcher] : watchers_) watcher->OnSessionEvent(event);
}

uint64_t Session::AddWatcher(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  (void)CurrentLocked();
  uint64_t handle = next_watcher_++;
  watchers_[handle] = watcher;
  agent::v1::WatchEvent initial;
  initial.set_generation(generation_);
  initial.set_change(agent::v1::SESSION_CHANGE_INITIAL);
  *initial.mutable_session() = SnapshotLocked();
  watcher->OnSessionEvent(initial);
  return handle;
}

void Session::RemoveWatcher(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(handle);
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

void Session::NoteLoginEnded() {
  absl::MutexLock lock(&mu_);
  if (!pending_login_) return;
  pending_login_.reset();
  PublishLocked(agent::v1::SESSION_CHANGE_LOGIN_ENDED);
}

absl::Status Session::SaveLocked(const agent::v1::Credentials& credentials,
                                 agent::v1::SessionChange change) {
  if (absl::Status saved = store_.Save(credentials); !saved.ok()) return saved;
  unsaved_ = false;
  WipeString(&unsaved_from_token_);
  unsaved_failures_ = 0;
  unsaved_retry_at_ = absl::InfiniteFuture();
  fingerprint_ = store_.Fingerprint();
  loaded_once_ = true;
  SetCachedLocked(credentials);
  PublishLocked(change);
  return absl::OkStatus();
}

// --- Calls ----------------------------------------------------------------------------------

absl::StatusOr<Session::Snapshot> Session::Read(bool verify) {
  Snapshot snapshot;
  // One look at the credentials; a second only after refreshing a token that already expired
  // (e.g. the machine slept past the expiry).
  for (bool refreshed = false;; refreshed = true) {
    {
      absl::MutexLock lock(&mu_);
      absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&snapshot.warnings);
      if (!current.ok()) return current.status();
      bool stale = !refreshed && current->has_token_expires_at() &&
                   !current->refresh_token().empty() &&
                   ToTime(current->token_expires_at()) <= clock_.Now();
      if (!stale) {
        snapshot.credentials = *std::move(current);
        if (!verify && known_user_token_ == snapshot.credentials.token() &&
            clock_.Monotonic() - known_user_at_ < identity_max_age_) {
          snapshot.user = known_user_;  // no network on the hot path
          return snapshot;
        }
        break;
      }
    }
    (void)Refresh(/*only_if_due=*/true);
  }
  absl::StatusOr<server::v1::UserInfo> user =
      issuers_.For(IssuerOf(snapshot.credentials))
          ->identity.FetchUserInfo(snapshot.credentials.token());
  absl::MutexLock lock(&mu_);
  if (!user.ok()) {
    if (absl::IsUnauthenticated(user.status())) {
      WipeString(&known_user_token_);
      MarkExpiredLocked(snapshot.credentials.token(), user.status().message());
    }
    return user.status();
  }
  snapshot.user = *std::move(user);
  ReplaceSecret(&known_user_token_, snapshot.credentials.token());
  known_user_ = snapshot.user;
  known_user_at_ = clock_.Monotonic();
  return snapshot;
}

std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> Session::TryStatusFromMemory() {
  absl::MutexLock lock(&mu_);
  // Only what is already loaded: a changed file (one stat) is left to the full path.
  if (!loaded_once_ || !unreported_warnings_.empty() || !unreported_problem_.ok() || unsaved_ ||
      store_.Fingerprint() != fingerprint_) {
    return std::nullopt;
  }
  if (!cached_) {
    // Unsafe or unreadable files are explained by the full path.
    if (!absl::IsNotFound(last_load_) || revocations_.size() > 0) return std::nullopt;
    return absl::StatusOr<agent::v1::GetStatusResponse>(absl::UnauthenticatedError(kNotSignedIn));
  }
  if (ExpiredLocked()) {
    return absl::StatusOr<agent::v1::GetStatusResponse>(
        absl::UnauthenticatedError(absl::StrCat("your session expired: ", expired_reason_)));
  }
  if (known_user_token_ != cached_->token() ||
      clock_.Monotonic() - known_user_at_ >= identity_max_age_ ||
      (cached_->has_token_expires_at() && ToTime(cached_->token_expires_at()) <= clock_.Now())) {
    return std::nullopt;
  }
  const std::string& active = cached_->active_org_slug();
  if (!active.empty() && FindMembership(known_user_, active) == nullptr) {
    return std::nullopt;  // has a warning: the full path reports it
  }
  return absl::StatusOr<agent::v1::GetStatusResponse>(StatusReplyLocked(*cached_, known_user_, {}));
}

absl::StatusOr<agent::v1::GetStatusResponse> Session::Status(bool verify) {
  absl::StatusOr<Snapshot> snapshot = Read(verify);
  if (!snapshot.ok()) return snapshot.status();
  absl::MutexLock lock(&mu_);
  return StatusReplyLocked(snapshot->credentials, snapshot->user, std::move(snapshot->warnings));
}

absl::StatusOr<agent::v1::ListOrgsResponse> Session::ListOrgs(bool verify) {
  absl::StatusOr<Snapshot> snapshot = Read(verify);
  if (!snapshot.ok()) return snapshot.status();
  WarnIfNotMember(snapshot->credentials, snapshot->user, &snapshot->warnings);
  {
    absl::MutexLock lock(&mu_);
    StandingWarningsLocked(snapshot->credentials, &snapshot->warnings);
  }
  agent::v1::ListOrgsResponse reply;
  reply.set_active_org_slug(snapshot->credentials.active_org_slug());
  for (const auto& m : snapshot->user.memberships()) {
    agent::v1::Membership* out = reply.add_memberships();
    out->set_slug(m.slug());
    out->set_role(m.role());
    out->set_active(m.slug() == reply.active_org_slug());
  }
  for (auto& w : snapshot->warnings) reply.add_warnings(std::move(w));
  return reply;
}

absl::StatusOr<agent::v1::UseOrgResponse> Session::UseOrg(absl::string_view slug) {
  if (!IsValidSlug(slug)) {
    return absl::InvalidArgumentError(
        "an organization slug is 1 to 100 characters of letters, digits, '.', '_' and '-'");
  }
  // A write: membership is checked with the server, whatever the cache holds.
  absl::StatusOr<Snapshot> snapshot = Read(/*verify=*/true);
  if (!snapshot.ok()) return snapshot.status();
  const server::v1::UserMembership* membership = FindMembership(snapshot->user, slug);
  if (membership == nullptr) {
    std::vector<std::string> slugs;
    for (const auto& m : snapshot->user.memberships()) slugs.push_back(m.slug());
    return absl::FailedPreconditionError(absl::StrCat(
        "you are not a member of organization ", slug,
        slugs.empty() ? "; you belong to no organization"
                      : absl::StrCat("; your organizations: ", absl::StrJoin(slugs, ", "))));
  }
  {
    absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();  // between agents
    if (!held.ok()) return held.status();
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ignored;
    absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
    if (!current.ok()) return current.status();
    if (current->token() != snapshot->credentials.token()) {
      return absl::AbortedError("the session changed while switching organizations; try again");
    }
    agent::v1::Credentials updated = *std::move(current);
    updated.set_active_org_slug(std::string(slug));
    if (absl::Status saved = SaveLocked(updated, agent::v1::SESSION_CHANGE_ORG_SWITCHED);
        !saved.ok()) {
      return saved;
    }
  }
  LogInfo("active organization switched to %s", slug);
  agent::v1::UseOrgResponse reply;
  reply.set_email(snapshot->user.email());
  reply.set_active_org_slug(std::string(slug));
  reply.set_role(membership->role());
  for (auto& w : snapshot->warnings) reply.add_warnings(std::move(w));
  return reply;
}

absl::Status Session::RevokeTokens(const agent::v1::Credentials& credentials) {
  std::shared_ptr<Issuer> issuer = issuers_.For(IssuerOf(credentials));
  absl::Status revoked = issuer->identity.Revoke(credentials.token(), "access_token");
  if (revoked.ok() && !credentials.refresh_token().empty()) {
    revoked = issuer->identity.Revoke(credentials.refresh_token(), "refresh_token");
  }
  return revoked;
}

absl::StatusOr<agent::v1::LogoutResponse> Session::Logout() {
  agent::v1::LogoutResponse reply;
  agent::v1::Credentials ending;
  std::vector<RevocationQueue::Token> tokens;
  absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();  // between agents
  if (!held.ok()) return held.status();
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
    if (absl::IsUnauthenticated(current.status())) {
      reply.set_status("no_credential");
      return reply;
    }
    if (!current.ok()) return current.status();
    ending = *std::move(current);
    const std::string issuer = IssuerOf(ending);
    tokens.push_back({ending.token(), "access_token", issuer});
    if (!ending.refresh_token().empty()) {
      tokens.push_back({ending.refresh_token(), "refresh_token", issuer});
    }
    // Remembered before the credentials go, so that no token is ever forgotten unrevoked.
    if (absl::Status queued = revocations_.Add(tokens); !queued.ok()) {
      LogWarning("could not record the tokens for revocation: %s", queued.message());
    }
    if (absl::Status removed = store_.Remove(); !removed.ok()) {
      std::vector<std::string> unqueue;
      for (const auto& t : tokens) unqueue.push_back(t.token);
      revocations_.Remove(unqueue);
      return removed;
    }
    fingerprint_ = store_.Fingerprint();
    WipeCredentials(&cached_);
    unsaved_ = false;
    WipeString(&unsaved_from_token_);
    WipeString(&known_user_token_);
    PublishLocked(agent::v1::SESSION_CHANGE_SIGNED_OUT);
  }
  held->reset();
  LogInfo("signed out; revoking the session's tokens");
  reply.set_status("logged_out");
  std::vector<std::string> accepted;
  absl::Status first_error;
  std::shared_ptr<Issuer> issuer = issuers_.For(IssuerOf(ending));
  for (const auto& t : tokens) {
    absl::Status revoked = issuer->identity.Revoke(t.token, t.hint);
    if (revoked.ok() || !RevocationQueue::WorthRetrying(revoked)) {
      accepted.push_back(t.token);  // refused for good: retrying would not help
    }
    if (!revoked.ok() && first_error.ok()) first_error = revoked;
  }
  revocations_.Remove(accepted);
  reply.set_revoked(first_error.ok());
  if (!first_error.ok()) {
    bool retrying = accepted.size() < tokens.size();
    LogWarning("server-side revocation did not happen: %s", first_error.message());
    reply.set_revocation_error(
        absl::StrCat(first_error.message(),
                     retrying ? "; the agent keeps retrying until the server accepts it" : ""));
  }
  {
    // The signed-out event counted these tokens as pending; tell watchers how it settled.
    absl::MutexLock lock(&mu_);
    PublishLocked(agent::v1::SESSION_CHANGE_REVOCATIONS);
  }
  ScheduleChanged();
  return reply;
}

absl::StatusOr<agent::v1::GetTokenResponse> Session::GetToken() {
  bool refresh = false;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ignored;
    absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
    if (!current.ok()) return current.status();
    refresh = current->has_token_expires_at() && !current->refresh_token().empty() &&
              ToTime(current->token_expires_at()) - clock_.Now() < kHandOutMargin;
  }
  if (refresh) {
    absl::Status refreshed = Refresh(/*only_if_due=*/false);
    if (!refreshed.ok() && !absl::IsUnavailable(refreshed)) return refreshed;
  }
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ignored;
  absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
  if (!current.ok()) return current.status();
  if (current->has_token_expires_at() && ToTime(current->token_expires_at()) <= clock_.Now()) {
    return absl::UnavailableError(
        "the access token expired and could not be refreshed (the server is unreachable)");
  }
  agent::v1::GetTokenResponse reply;
  reply.set_token(current->token());
  if (current->has_token_expires_at()) *reply.mutable_expires_at() = current->token_expires_at();
  return reply;
}

absl::StatusOr<agent::v1::LoginResult> Session::CompleteLogin(const IssuedTokens& tokens,
                                                              const std::string& issuer_url) {
  const std::string issuer = issuers_.Resolve(issuer_url);
  agent::v1::Credentials fresh;
  fresh.set_token(tokens.access_token);
  fresh.set_refresh_token(tokens.refresh_token);
  fresh.set_api_url(issuer);
  // An approved login that cannot be completed must not leave live tokens behind.
  auto give_up = [&](const absl::Status& why, absl::string_view what) {
    bool queued = QueueRevocation(fresh, issuer);
    return absl::Status(
        why.code(),
        absl::StrCat(what, "; nothing was stored, and the new session's tokens ",
                     queued ? "were queued for revocation" : "could NOT be queued for revocation",
                     ": ", why.message()));
  };
  absl::StatusOr<server::v1::UserInfo> user =
      issuers_.For(issuer)->identity.FetchUserInfo(tokens.access_token);
  if (!user.ok()) return give_up(user.status(), "signed in, but could not read your identity");
  fresh.set_email(user->email());
  for (const auto& m : user->memberships()) {
    if (m.is_default()) {
      fresh.set_active_org_slug(m.slug());
      break;
    }
  }
  if (fresh.active_org_slug().empty() && user->memberships_size() > 0) {
    fresh.set_active_org_slug(user->memberships(0).slug());
  }
  SetTime(clock_.Now(), fresh.mutable_stored_at());
  if (tokens.expires_in) {
    SetTime(clock_.Now() + *tokens.expires_in, fresh.mutable_token_expires_at());
  }

  std::optional<agent::v1::Credentials> replaced;
  {
    absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();  // between agents
    if (!held.ok()) return give_up(held.status(), "signed in, but could not save the session");
    absl::MutexLock lock(&mu_);
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
    if (current.ok() && current->token() != fresh.token()) replaced = *std::move(current);
    if (absl::Status saved = SaveLocked(fresh, agent::v1::SESSION_CHANGE_SIGNED_IN); !saved.ok()) {
      return give_up(saved, "signed in, but could not save the session");
    }
    pending_login_.reset();
    refresh_failures_ = 0;
    ReplaceSecret(&known_user_token_, fresh.token());
    known_user_ = *user;
    known_user_at_ = clock_.Monotonic();
  }
  ScheduleChanged();
  LogInfo("signed in as %s; active organization %s", fresh.email(),
          fresh.active_org_slug().empty() ? "(none)" : fresh.active_org_slug());
  if (replaced) {
    // The new session is stored; only now is the old one given up, through the never-lost
    // queue, at the issuer that issued it.
    if (!QueueRevocation(*replaced, IssuerOf(*replaced))) {
      if (absl::Status revoked = RevokeTokens(*replaced); !revoked.ok()) {
        LogWarning("the previous session could not be revoked: %s", revoked.message());
      }
    }
  }
  agent::v1::LoginResult result;
  result.set_status("authenticated");
  result.set_email(fresh.email());
  result.set_active_org_slug(fresh.active_org_slug());
  return result;
}

// --- Refresh and background work ------------------------------------------------------------

absl::Time Session::RefreshDueLocked() {
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  if (!current.ok() || ExpiredLocked() || current->refresh_token().empty() ||
      !current->has_token_expires_at()) {
    return absl::InfiniteFuture();
  }
  if (refresh_failures_ > 0) return refresh_retry_at_;
  // Ahead of expiry by a quarter of the token's lifetime, at most five minutes. The expiry is a
  // wall-clock instant (the server's); the schedule is monotonic.
  absl::Time expires = ToTime(current->token_expires_at());
  absl::Time issued = current->has_stored_at() ? ToTime(current->stored_at()) : expires;
  absl::Duration lead = std::clamp((expires - issued) / 4, absl::Seconds(1), kMaxRefreshLead);
  return clock_.Monotonic() + (expires - lead - clock_.Now());
}

absl::Status Session::Refresh(bool only_if_due) {
  absl::MutexLock refreshing(&refresh_mu_);
  // Between agents: under the lock, the file is re-read, and a refresh is made only while it
  // still holds the token this agent meant to refresh (else another agent already did).
  absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();
  if (!held.ok()) return held.status();
  agent::v1::Credentials before;
  {
    absl::MutexLock lock(&mu_);
    if (only_if_due && RefreshDueLocked() > clock_.Monotonic()) return absl::OkStatus();
    std::vector<std::string> ignored;
    absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
    if (!current.ok()) return current.status();
    if (current->refresh_token().empty()) {
      return absl::FailedPreconditionError("the session has no refresh token");
    }
    before = *std::move(current);
  }
  absl::StatusOr<IssuedTokens> tokens =
      issuers_.For(IssuerOf(before))->identity.Refresh(before.refresh_token());
  absl::MutexLock lock(&mu_);
  if (!tokens.ok()) {
    if (absl::IsUnauthenticated(tokens.status())) {
      MarkExpiredLocked(before.token(), tokens.status().message());
    } else {
      ++refresh_failures_;
      absl::Duration wait =
          ExponentialBackoff(refresh_failures_, absl::Seconds(1), kMaxRefreshBackoff);
      refresh_retry_at_ = clock_.Monotonic() + wait;
      LogWarning("refresh failed (%s); retrying in %s", tokens.status().message(),
                 absl::FormatDuration(wait));
    }
    return tokens.status();
  }
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  if (!current.ok() || current->token() != before.token()) {
    LogWarning("the session changed during a refresh; its result is dropped");
    return absl::AbortedError("the session changed during the refresh");
  }
  agent::v1::Credentials updated = *std::move(current);
  updated.set_token(tokens->access_token);
  // A rotated refresh token replaces the old one in the same atomic write, before any reuse.
  if (!tokens->refresh_token.empty()) updated.set_refresh_token(tokens->refresh_token);
  if (tokens->expires_in) {
    SetTime(clock_.Now() + *tokens->expires_in, updated.mutable_token_expires_at());
  } else {
    updated.clear_token_expires_at();
  }
  SetTime(clock_.Now(), updated.mutable_stored_at());
  refresh_failures_ = 0;
  if (known_user_token_ == before.token()) {
    ReplaceSecret(&known_user_token_, updated.token());  // same user
  }
  if (absl::Status saved = SaveLocked(updated, agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
      !saved.ok()) {
    // Nothing lost: with rotation the old refresh token is dead, so the new tokens are kept in
    // memory, used, and saved again until that works.
    LogError("a refreshed token could not be saved (%s); keeping it in memory and retrying",
             saved.message());
    if (!unsaved_) ReplaceSecret(&unsaved_from_token_, before.token());
    unsaved_ = true;
    unsaved_error_ = std::string(saved.message());
    unsaved_retry_at_ = clock_.Monotonic() +
                        ExponentialBackoff(++unsaved_failures_, absl::Seconds(5), absl::Minutes(5));
    SetCachedLocked(updated);
    PublishLocked(agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
    ScheduleChanged();
    return absl::OkStatus();
  }
  LogInfo("access token refreshed");
  return absl::OkStatus();
}

void Session::RetryUnsavedLocked() {
  if (!unsaved_ || !cached_) return;
  agent::v1::Credentials keep = *cached_;
  if (absl::Status saved = SaveLocked(keep, agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
      !saved.ok()) {
    unsaved_error_ = std::string(saved.message());
    unsaved_retry_at_ = clock_.Monotonic() +
                        ExponentialBackoff(++unsaved_failures_, absl::Seconds(5), absl::Minutes(5));
    return;
  }
  LogInfo("the refreshed token that could not be saved earlier is saved now");
}

absl::Time Session::DoDueWork() {
  bool save_due;
  {
    absl::MutexLock lock(&mu_);
    save_due = unsaved_ && unsaved_retry_at_ <= clock_.Monotonic();
  }
  if (save_due) {
    absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();
    absl::MutexLock lock(&mu_);
    if (held.ok()) RetryUnsavedLocked();
  }
  absl::Time refresh_due;
  {
    absl::MutexLock lock(&mu_);
    refresh_due = RefreshDueLocked();
  }
  if (refresh_due <= clock_.Monotonic()) (void)Refresh(/*only_if_due=*/true);
  if (revocations_.NextDue() <= clock_.Monotonic()) {
    int before = revocations_.size();
    int after = revocations_.RetryDue([this](const RevocationQueue::Token& t) {
      return issuers_.For(t.api_url)->identity.Revoke(t.token, t.hint);
    });
    if (after != before) {
      absl::MutexLock lock(&mu_);
      PublishLocked(agent::v1::SESSION_CHANGE_REVOCATIONS);
    }
  }
  absl::MutexLock lock(&mu_);
  return std::min({RefreshDueLocked(), revocations_.NextDue(),
                   unsaved_ ? unsaved_retry_at_ : absl::InfiniteFuture()});
}

}  // namespace datagen
