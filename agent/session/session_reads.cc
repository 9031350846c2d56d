// Session: the reads (Status, ListOrgs, GetToken), from memory when the identity is fresh, else
// after a round trip to the identity server, with the warnings each answer carries. The state
// is in session.cc, the changes in session_changes.cc.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/common/log.h"
#include "agent/common/proto_time.h"
#include "agent/common/secret_memory.h"
#include "agent/session/session.h"

namespace datagen {

namespace {

std::string WallTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone());
}

}  // namespace

bool Session::FromMemoryLocked(const agent::v1::Credentials& credentials, Snapshot* snapshot) {
  const server::v1::UserInfo* known = identity_.Known(credentials.token());
  if (known == nullptr) return false;
  snapshot->user = *known;
  snapshot->verified_at = identity_.confirmed_at();
  if (identity_.Fresh(credentials.token(), clock_.BootTime()) != nullptr) return true;
  snapshot->unverified = true;
  if (!identity_.unreachable().empty()) {
    snapshot->warnings.push_back(
        MakeWarning(agent::v1::WARNING_KIND_UNVERIFIED,
                    absl::StrCat(identity_.unreachable(), "; shown as the server confirmed it at ",
                                 WallTime(identity_.confirmed_at()))));
  } else {
    snapshot->warnings.push_back(MakeWarning(
        agent::v1::WARNING_KIND_UNVERIFIED,
        absl::StrCat("shown as the server confirmed it at ", WallTime(identity_.confirmed_at()),
                     "; the agent is confirming it again now")));
  }
  if (!revalidate_) {
    revalidate_ = true;
    ScheduleChanged();  // DoDueWork asks the server in the background
  }
  return true;
}

absl::StatusOr<Session::Snapshot> Session::Read(Source source, Unreachable unreachable) {
  const bool verify = source == Source::kServer;
  Snapshot snapshot;
  // One look at the credentials; a second only after refreshing a token that already expired
  // (e.g. the machine slept past the expiry).
  for (bool refreshed = false;; refreshed = true) {
    bool from_memory = false;
    std::string stale_token;
    {
      absl::MutexLock lock(&mu_);
      // --verify asks the server afresh, also about a session it once called expired.
      absl::StatusOr<agent::v1::Credentials> current =
          UsableLocked(&snapshot.warnings, /*even_if_expired=*/verify);
      if (!current.ok()) return current.status();
      bool stale = !refreshed && current->has_token_expires_at() &&
                   !current->refresh_token().empty() &&
                   ToTime(current->token_expires_at()) <= clock_.Now();
      if (!stale) {
        snapshot.credentials = *std::move(current);
        if (verify || !FromMemoryLocked(snapshot.credentials, &snapshot)) break;
        from_memory = true;
      } else {
        stale_token = current->token();
      }
    }
    if (from_memory) return snapshot;  // no network on this path
    // The caller holds an expired token: refresh now, whatever the background backoff (which
    // is unhurried so that a fleet does not stampede its server after an outage).
    (void)Refresh(/*only_if_due=*/false, stale_token);
    WipeString(&stale_token);
  }
  absl::StatusOr<server::v1::UserInfo> user =
      issuers_.For(IssuerOf(snapshot.credentials))
          ->identity.FetchUserInfo(snapshot.credentials.token());
  absl::MutexLock lock(&mu_);
  absl::Status taken = TakeConfirmationLocked(snapshot.credentials.token(), user);
  if (!taken.ok()) {
    if (!verify && unreachable == Unreachable::kFileAndWarn && absl::IsUnavailable(taken)) {
      // Nothing known since the agent started: the file says who, the server cannot confirm it.
      snapshot.user.Clear();
      snapshot.user.set_email(snapshot.credentials.email());
      if (!snapshot.credentials.active_org_slug().empty()) {  // a member, as far as it knows
        snapshot.user.add_memberships()->set_slug(snapshot.credentials.active_org_slug());
      }
      snapshot.unverified = true;
      snapshot.file_only = true;
      snapshot.warnings.push_back(MakeWarning(
          agent::v1::WARNING_KIND_UNVERIFIED,
          absl::StrCat(taken.message(),
                       "; shown as stored in the credentials file, without your role")));
      return snapshot;
    }
    return taken;
  }
  snapshot.user = *std::move(user);
  snapshot.verified_at = identity_.confirmed_at();
  return snapshot;
}

absl::Status Session::TakeConfirmationLocked(const std::string& token,
                                             const absl::StatusOr<server::v1::UserInfo>& user) {
  if (user.ok()) {
    identity_.Remember(token, *user, clock_.BootTime(), clock_.Now());
    if (ExpiredLocked()) {  // the server accepts the token it once refused: signed in again
      ClearExpiredLocked();
      PublishLocked(agent::v1::SESSION_CHANGE_SIGNED_IN);
    }
    return absl::OkStatus();
  }
  if (absl::IsUnauthenticated(user.status())) {
    identity_.Forget();
    MarkExpiredLocked(token, user.status().message());  // watchers are told
    return ExpiredError(user.status().message());       // as every later call says it
  }
  return user.status();
}

std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> Session::TryStatusFromMemory(
    const OrgChoice& org) {
  using Reply = absl::StatusOr<agent::v1::GetStatusResponse>;
  absl::MutexLock lock(&mu_);
  // Only what is already loaded: a changed file (one stat) is left to the full path, and so are
  // unsafe or unreadable files, which it explains.
  if (!credentials_.AnswerableFromMemory()) return std::nullopt;
  const agent::v1::Credentials* cached = credentials_.cached();
  if (cached == nullptr) {
    if (revocations_.size() > 0) return std::nullopt;
    return Reply(NotSignedInError());
  }
  if (ExpiredLocked()) return Reply(ExpiredError(expired_reason_));
  if (cached->has_token_expires_at() && ToTime(cached->token_expires_at()) <= clock_.Now()) {
    return std::nullopt;  // the full path refreshes it first
  }
  Snapshot snapshot;
  if (!FromMemoryLocked(*cached, &snapshot)) return std::nullopt;
  agent::v1::Credentials effective = *cached;
  absl::StatusOr<std::string> source = ApplyOrgChoice(org, snapshot.user, &effective);
  if (!source.ok()) return Reply(source.status());
  Warnings membership;
  WarnIfNotMember(effective, snapshot.user, &membership);
  if (!membership.empty()) return std::nullopt;  // the full path reports it
  agent::v1::GetStatusResponse built = BuildStatusReply(
      effective, snapshot.user, ContextLocked(*cached), std::move(snapshot.warnings));
  SetVerification(snapshot.verified_at, snapshot.unverified, &built);
  built.set_profile(profile_);
  built.set_org_source(*std::move(source));
  return Reply(std::move(built));
}

namespace {

// The organization in effect for a read: ApplyOrgChoice, except that a choice cannot be checked
// against memberships the server was not asked for (the file-only answer).
absl::StatusOr<std::string> ChooseOrg(const OrgChoice& org, const server::v1::UserInfo& user,
                                      bool file_only, agent::v1::Credentials* credentials) {
  if (file_only && !org.slug.empty() && org.slug != credentials->active_org_slug()) {
    return absl::UnavailableError(
        absl::StrCat("cannot check that you are a member of organization ", org.slug,
                     ": the identity server could not be reached"));
  }
  return ApplyOrgChoice(org, user, credentials);
}

}  // namespace

absl::StatusOr<agent::v1::GetStatusResponse> Session::Status(bool verify, const OrgChoice& org) {
  absl::StatusOr<Snapshot> snapshot =
      Read(verify ? Source::kServer : Source::kMemoryWhenKnown, Unreachable::kFileAndWarn);
  if (!snapshot.ok()) return snapshot.status();
  agent::v1::Credentials effective = snapshot->credentials;
  absl::StatusOr<std::string> source =
      ChooseOrg(org, snapshot->user, snapshot->file_only, &effective);
  if (!source.ok()) return source.status();
  absl::MutexLock lock(&mu_);
  agent::v1::GetStatusResponse reply =
      BuildStatusReply(effective, snapshot->user, ContextLocked(snapshot->credentials),
                       std::move(snapshot->warnings));
  SetVerification(snapshot->verified_at, snapshot->unverified, &reply);
  reply.set_profile(profile_);
  reply.set_org_source(*std::move(source));
  return reply;
}

absl::StatusOr<agent::v1::ListOrgsResponse> Session::ListOrgs(bool verify, const OrgChoice& org) {
  absl::StatusOr<Snapshot> snapshot =
      Read(verify ? Source::kServer : Source::kMemoryWhenKnown, Unreachable::kFail);
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<std::string> source = ApplyOrgChoice(org, snapshot->user, &snapshot->credentials);
  if (!source.ok()) return source.status();
  WarnIfNotMember(snapshot->credentials, snapshot->user, &snapshot->warnings);
  {
    absl::MutexLock lock(&mu_);
    AddStandingWarnings(ContextLocked(snapshot->credentials), &snapshot->warnings);
  }
  agent::v1::ListOrgsResponse reply;
  reply.set_active_org_slug(snapshot->credentials.active_org_slug());
  for (const auto& m : snapshot->user.memberships()) {
    agent::v1::Membership* out = reply.add_memberships();
    out->set_slug(m.slug());
    out->set_role(m.role());
    out->set_active(m.slug() == reply.active_org_slug());
  }
  SetWarnings(std::move(snapshot->warnings), &reply);
  SetVerification(snapshot->verified_at, snapshot->unverified, &reply);
  reply.set_profile(profile_);
  reply.set_org_source(*std::move(source));
  return reply;
}

absl::StatusOr<agent::v1::GetTokenResponse> Session::GetToken(const OrgChoice& org,
                                                              absl::Duration min_valid) {
  // An organization asked for must be one of the user's: checked as Status checks it (from
  // memory when the identity is known), before any token leaves.
  std::string org_in_effect;
  std::string org_source;
  if (!org.slug.empty()) {
    absl::StatusOr<Snapshot> snapshot = Read(Source::kMemoryWhenKnown, Unreachable::kFail);
    if (!snapshot.ok()) return snapshot.status();
    absl::StatusOr<std::string> source =
        ApplyOrgChoice(org, snapshot->user, &snapshot->credentials);
    if (!source.ok()) return source.status();
    org_in_effect = snapshot->credentials.active_org_slug();
    org_source = *std::move(source);
  }
  std::string near_expiry;  // the token seen too close to its expiry to hand out
  {
    absl::MutexLock lock(&mu_);
    Warnings ignored;
    absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
    if (!current.ok()) return current.status();
    const absl::Duration needed = std::max(RefreshSchedule::HandOutMargin(*current, kHandOutMargin),
                                           RefreshSchedule::NeededFor(*current, min_valid));
    if (current->has_token_expires_at() && !current->refresh_token().empty() &&
        ToTime(current->token_expires_at()) - clock_.Now() < needed) {
      near_expiry = current->token();
    }
  }
  if (!near_expiry.empty()) {
    // Callers that saw the same token wait for one refresh, and the later ones find it done.
    absl::Status refreshed = Refresh(/*only_if_due=*/false, near_expiry);
    WipeString(&near_expiry);
    if (!refreshed.ok() && !absl::IsUnavailable(refreshed)) return refreshed;
  }
  absl::MutexLock lock(&mu_);
  Warnings ignored;
  absl::StatusOr<agent::v1::Credentials> current = UsableLocked(&ignored);
  if (!current.ok()) return current.status();
  if (current->has_token_expires_at() && ToTime(current->token_expires_at()) <= clock_.Now()) {
    return absl::UnavailableError(
        "the access token expired and could not be refreshed (the server is unreachable)");
  }
  agent::v1::GetTokenResponse reply;
  reply.set_token(current->token());
  reply.set_token_type("Bearer");
  if (current->has_token_expires_at()) {
    *reply.mutable_expires_at() = current->token_expires_at();
    reply.set_min_valid_unmet(ToTime(current->token_expires_at()) - clock_.Now() < min_valid);
  }
  reply.set_lifetime_seconds(absl::ToInt64Seconds(RefreshSchedule::Lifetime(*current)));
  reply.set_profile(profile_);
  reply.set_api_url(IssuerOf(*current));
  reply.set_email(current->email());
  if (org.slug.empty()) {
    org_in_effect = current->active_org_slug();
    org_source = org_in_effect.empty() ? "" : "file";
  }
  reply.set_active_org_slug(org_in_effect);
  reply.set_org_source(org_source);
  return reply;
}

std::string Session::LoginIssuer() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<agent::v1::Credentials> current = CurrentLocked();
  if (!current.ok() || current->token().empty()) return "";
  return IssuerOf(*current);
}

agent::v1::ProfileSummary Session::Summary() {
  absl::MutexLock lock(&mu_);
  (void)CurrentLocked();  // a file changed behind the agent's back is read first
  agent::v1::SessionSnapshot now = SnapshotLocked();
  agent::v1::ProfileSummary summary;
  summary.set_profile(profile_);
  summary.set_state(now.state());
  summary.set_email(now.email());
  summary.set_active_org_slug(now.active_org_slug());
  summary.set_revocations_pending(now.revocations_pending());
  if (const agent::v1::Credentials* cached = credentials_.cached()) {
    summary.set_api_url(IssuerOf(*cached));
    summary.set_unverified(now.state() == agent::v1::SESSION_STATE_SIGNED_IN &&
                           identity_.Fresh(cached->token(), clock_.BootTime()) == nullptr);
  }
  summary.set_status(now.state() == agent::v1::SESSION_STATE_EXPIRED     ? "expired"
                     : now.state() != agent::v1::SESSION_STATE_SIGNED_IN ? "signed_out"
                     : summary.unverified()                              ? "unverified"
                                                                         : "signed_in");
  return summary;
}

}  // namespace datagen
