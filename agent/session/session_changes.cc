// Session: the calls that change the session (UseOrg, Logout, a login's completion) and the
// background work (refresh, the unsaved token's save, revocations). The state is in session.cc,
// the reads in session_reads.cc.
#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/common/log.h"
#include "agent/common/proto_time.h"
#include "agent/common/reason.h"
#include "agent/common/secret_memory.h"
#include "agent/common/text.h"
#include "agent/session/session.h"

namespace datagen {

absl::StatusOr<agent::v1::UseOrgResponse> Session::UseOrg(absl::string_view slug) {
  if (!IsValidSlug(slug)) {
    return absl::InvalidArgumentError(
        "an organization slug is 1 to 100 characters of letters, digits, '.', '_' and '-'");
  }
  // A write: membership is checked with the server, whatever the cache holds.
  absl::StatusOr<Snapshot> snapshot = Read(Source::kServer, Unreachable::kFail);
  if (!snapshot.ok()) return snapshot.status();
  const server::v1::UserMembership* membership = FindMembership(snapshot->user, slug);
  if (membership == nullptr) return NotAMemberError(slug, snapshot->user);
  {
    absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();  // between agents
    if (!held.ok()) return held.status();
    absl::MutexLock lock(&mu_);
    Warnings ignored;
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
  SetWarnings(std::move(snapshot->warnings), &reply);
  return reply;
}

absl::StatusOr<agent::v1::LogoutResponse> Session::Logout() {
  agent::v1::LogoutResponse reply;
  std::vector<RevocationQueue::Token> tokens;
  absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();  // between agents
  if (!held.ok()) return held.status();
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
    if (absl::IsUnauthenticated(current.status())) {
      reply.set_status("no_credential");
      reply.set_outcome(agent::v1::LOGOUT_OUTCOME_NO_CREDENTIAL);
      return reply;
    }
    if (!current.ok()) return current.status();
    tokens = TokensOf(*current, IssuerOf(*current));
    // Remembered before the credentials go, so that no token is ever forgotten unrevoked.
    if (absl::Status queued = revocations_.Add(tokens); !queued.ok()) {
      LogWarning("could not record the tokens for revocation: %s", queued.message());
    }
    if (absl::Status removed = credentials_.Remove(); !removed.ok()) {
      std::vector<std::string> unqueue;
      for (const auto& t : tokens) unqueue.push_back(t.token);
      revocations_.Remove(unqueue);
      return removed;
    }
    identity_.Forget();
    ClearExpiredLocked();
    PublishLocked(agent::v1::SESSION_CHANGE_SIGNED_OUT);
  }
  held->reset();
  LogInfo("signed out; revoking the session's tokens");
  reply.set_status("logged_out");
  reply.set_outcome(agent::v1::LOGOUT_OUTCOME_LOGGED_OUT);
  RevokeNow(tokens, &reply);
  {
    // The signed-out event counted these tokens as pending; tell watchers how it settled.
    absl::MutexLock lock(&mu_);
    PublishLocked(agent::v1::SESSION_CHANGE_REVOCATIONS);
  }
  ScheduleChanged();
  return reply;
}

void Session::RevokeNow(const std::vector<RevocationQueue::Token>& tokens,
                        agent::v1::LogoutResponse* reply) {
  std::vector<std::string> settled;
  absl::Status first_error;
  for (const auto& t : tokens) {
    absl::Status revoked = RevokeAtIssuer(t);
    if (revoked.ok() || !RevocationQueue::WorthRetrying(revoked)) {
      settled.push_back(t.token);  // accepted, or refused for good: retrying would not help
    }
    if (!revoked.ok() && first_error.ok()) first_error = revoked;
  }
  revocations_.Remove(settled);
  reply->set_revoked(first_error.ok());
  if (first_error.ok()) return;
  bool retrying = settled.size() < tokens.size();
  LogWarning("server-side revocation did not happen: %s", first_error.message());
  reply->set_revocation_error(
      absl::StrCat(first_error.message(),
                   retrying ? "; the agent keeps retrying until the server accepts it" : ""));
}

// --- Login ----------------------------------------------------------------------------------

agent::v1::Credentials Session::NewSession(const IssuedTokens& tokens, const std::string& issuer,
                                           const server::v1::UserInfo& user) {
  agent::v1::Credentials fresh;
  fresh.set_token(tokens.access_token);
  fresh.set_refresh_token(tokens.refresh_token);
  fresh.set_api_url(issuer);
  fresh.set_email(user.email());
  fresh.set_active_org_slug(DefaultOrganization(user));
  SetTime(clock_.Now(), fresh.mutable_stored_at());
  if (tokens.expires_in) {
    SetTime(clock_.Now() + *tokens.expires_in, fresh.mutable_token_expires_at());
  }
  return fresh;
}

absl::Status Session::StoreLogin(const agent::v1::Credentials& fresh,
                                 const server::v1::UserInfo& user,
                                 std::optional<agent::v1::Credentials>* replaced) {
  absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();  // between agents
  if (!held.ok()) return held.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  if (current.ok() && current->token() != fresh.token()) *replaced = *std::move(current);
  // The signed-in event carries no finished login's code: the login ends with it.
  std::optional<agent::v1::DeviceCode> pending = std::move(pending_login_);
  pending_login_.reset();
  if (absl::Status saved = SaveLocked(fresh, agent::v1::SESSION_CHANGE_SIGNED_IN); !saved.ok()) {
    pending_login_ = std::move(pending);  // still waiting: LoginEnded tells watchers
    return saved;
  }
  refresh_schedule_.Reset();
  ClearExpiredLocked();  // a new login starts afresh, even with a token string seen before
  identity_.Remember(fresh.token(), user, clock_.BootTime(), clock_.Now());
  return absl::OkStatus();
}

absl::StatusOr<agent::v1::LoginResult> Session::CompleteLogin(const IssuedTokens& tokens,
                                                              const std::string& issuer_url) {
  const std::string issuer = issuers_.Resolve(issuer_url);
  // An approved login that cannot be completed must not leave live tokens behind.
  auto give_up = [&](const absl::Status& why, absl::string_view what) {
    agent::v1::Credentials unused;
    unused.set_token(tokens.access_token);
    unused.set_refresh_token(tokens.refresh_token);
    bool queued = QueueRevocation(unused, issuer);
    return absl::Status(
        why.code(),
        absl::StrCat(what, "; nothing was stored, and the new session's tokens ",
                     queued ? "were queued for revocation" : "could NOT be queued for revocation",
                     ": ", why.message()));
  };
  absl::StatusOr<server::v1::UserInfo> user =
      issuers_.For(issuer)->identity.FetchUserInfo(tokens.access_token);
  if (!user.ok()) return give_up(user.status(), "signed in, but could not read your identity");
  agent::v1::Credentials fresh = NewSession(tokens, issuer, *user);
  std::optional<agent::v1::Credentials> replaced;
  if (absl::Status stored = StoreLogin(fresh, *user, &replaced); !stored.ok()) {
    return give_up(stored, "signed in, but could not save the session");
  }
  ScheduleChanged();
  LogInfo("signed in as %s; active organization %s", fresh.email(),
          fresh.active_org_slug().empty() ? "(none)" : fresh.active_org_slug());
  // The new session is stored; only now is the old one given up, through the never-lost
  // queue, at the issuer that issued it.
  if (replaced && !QueueRevocation(*replaced, IssuerOf(*replaced))) {
    // Not even recorded (the folder is unwritable): one try now, on the same path.
    for (const RevocationQueue::Token& t : TokensOf(*replaced, IssuerOf(*replaced))) {
      if (absl::Status revoked = RevokeAtIssuer(t); !revoked.ok()) {
        LogWarning("the previous session could not be revoked: %s", revoked.message());
        break;
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
  if (!current.ok() || ExpiredLocked()) return absl::InfiniteFuture();
  return refresh_schedule_.Due(*current, clock_.Now(), clock_.BootTime());
}

absl::Status Session::Refresh(bool only_if_due, absl::string_view stale_token) {
  absl::MutexLock refreshing(&refresh_mu_);
  // Between agents: under the lock, the file is re-read, and a refresh is made only while it
  // still holds the token this agent meant to refresh (else another agent already did).
  absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();
  if (!held.ok()) return held.status();
  agent::v1::Credentials before;
  {
    absl::MutexLock lock(&mu_);
    if (only_if_due && RefreshDueLocked() > clock_.BootTime()) return absl::OkStatus();
    Warnings ignored;
    absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
    if (!current.ok()) return current.status();
    if (current->refresh_token().empty()) {
      return absl::FailedPreconditionError("the session has no refresh token");
    }
    // Another caller (or agent) refreshed the token this one saw while it waited: done.
    if (!stale_token.empty() && current->token() != stale_token) return absl::OkStatus();
    before = *std::move(current);
  }
  absl::StatusOr<IssuedTokens> tokens =
      issuers_.For(IssuerOf(before))->identity.Refresh(before.refresh_token());
  absl::MutexLock lock(&mu_);
  if (!tokens.ok()) {
    if (absl::IsUnauthenticated(tokens.status())) {
      MarkExpiredLocked(before.token(), tokens.status().message());
      return ExpiredError(tokens.status().message());  // as every later call says it
    } else {
      absl::Duration wait = refresh_schedule_.Failed(clock_.BootTime());
      LogWarning("refresh failed (%s); retrying in %s", tokens.status().message(),
                 absl::FormatDuration(wait));
    }
    return tokens.status();
  }
  return ApplyRefreshLocked(before, *tokens);
}

absl::Status Session::ApplyRefreshLocked(const agent::v1::Credentials& before,
                                         const IssuedTokens& tokens) {
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  if (!current.ok() || current->token() != before.token()) {
    LogWarning("the session changed during a refresh; its result is dropped");
    return absl::AbortedError("the session changed during the refresh");
  }
  agent::v1::Credentials updated = *std::move(current);
  updated.set_token(tokens.access_token);
  // A rotated refresh token replaces the old one in the same atomic write, before any reuse.
  if (!tokens.refresh_token.empty()) updated.set_refresh_token(tokens.refresh_token);
  if (tokens.expires_in) {
    SetTime(clock_.Now() + *tokens.expires_in, updated.mutable_token_expires_at());
  } else {
    updated.clear_token_expires_at();
  }
  SetTime(clock_.Now(), updated.mutable_stored_at());
  refresh_schedule_.Reset();
  identity_.Rekey(before.token(), updated.token());  // same user
  if (absl::Status saved = SaveLocked(updated, agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
      !saved.ok()) {
    // Nothing lost: with rotation the old refresh token is dead, so the new tokens are kept in
    // memory, used, and saved again until that works.
    LogError("a refreshed token could not be saved (%s); keeping it in memory and retrying",
             saved.message());
    credentials_.KeepUnsaved(updated, before.token(), saved.message(), clock_.BootTime());
    PublishLocked(agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
    ScheduleChanged();
    return absl::OkStatus();
  }
  LogInfo("access token refreshed");
  return absl::OkStatus();
}

void Session::RetryUnsavedIfDue() {
  {
    absl::MutexLock lock(&mu_);
    if (credentials_.unsaved_due() > clock_.BootTime()) return;
  }
  absl::StatusOr<std::unique_ptr<StoreLock>> held = store_.Lock();
  if (!held.ok()) return;
  absl::MutexLock lock(&mu_);
  if (credentials_.unsaved() && credentials_.RetryUnsaved(clock_.BootTime())) {
    PublishLocked(agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
  }
}

void Session::RetryRevocationsIfDue() {
  if (revocations_.NextDue() > clock_.BootTime()) return;
  int before = revocations_.size();
  int after =
      revocations_.RetryDue([this](const RevocationQueue::Token& t) { return RevokeAtIssuer(t); });
  if (after != before) {
    absl::MutexLock lock(&mu_);
    PublishLocked(agent::v1::SESSION_CHANGE_REVOCATIONS);
  }
}

void Session::RevalidateIfAsked() {
  agent::v1::Credentials credentials;
  absl::Cleanup wipe = [&credentials] { WipeCredentials(&credentials); };
  {
    absl::MutexLock lock(&mu_);
    if (!revalidate_) return;
    revalidate_ = false;
    const agent::v1::Credentials* cached = credentials_.cached();
    if (cached == nullptr || ExpiredLocked() || identity_.Known(cached->token()) == nullptr ||
        identity_.Fresh(cached->token(), clock_.BootTime()) != nullptr) {
      return;  // signed out, expired, or confirmed meanwhile
    }
    credentials = *cached;
  }
  absl::StatusOr<server::v1::UserInfo> user =
      issuers_.For(IssuerOf(credentials))->identity.FetchUserInfo(credentials.token());
  absl::MutexLock lock(&mu_);
  const agent::v1::Credentials* cached = credentials_.cached();
  if (cached == nullptr || cached->token() != credentials.token()) return;  // changed meanwhile
  absl::Status taken = TakeConfirmationLocked(credentials.token(), user);
  if (!taken.ok() && !absl::IsUnauthenticated(taken)) {
    LogInfo("could not confirm the session with the server: %s", taken.message());
    identity_.NoteUnreachable(std::string(taken.message()));
  }
}

absl::Time Session::DoDueWork() {
  RevalidateIfAsked();
  RetryUnsavedIfDue();
  absl::Time refresh_due;
  {
    absl::MutexLock lock(&mu_);
    refresh_due = RefreshDueLocked();
  }
  if (refresh_due <= clock_.BootTime()) (void)Refresh(/*only_if_due=*/true, /*stale_token=*/"");
  RetryRevocationsIfDue();
  absl::MutexLock lock(&mu_);
  return std::min({RefreshDueLocked(), revocations_.NextDue(), credentials_.unsaved_due()});
}

}  // namespace datagen
