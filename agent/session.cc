#include "agent/session.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/log.h"

namespace datagen {
namespace {

constexpr absl::string_view kNotSignedIn = "not signed in";

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

Session::Session(CredentialStore& store, IdentityClient& identity, Clock& clock,
                 std::string api_url)
    : store_(store), identity_(identity), clock_(clock), api_url_(std::move(api_url)) {}

absl::StatusOr<agent::v1::Credentials> Session::CurrentLocked(std::vector<std::string>* warnings) {
  std::string fingerprint = store_.Fingerprint();
  if (fingerprint == fingerprint_ && fingerprint != "absent") {
    if (cached_) return *cached_;
  }
  absl::StatusOr<agent::v1::Credentials> loaded = store_.Load(warnings);
  // Loading may repair permissions (changing the fingerprint): take it afterwards.
  fingerprint_ = store_.Fingerprint();
  if (!loaded.ok()) {
    cached_.reset();
    if (absl::IsNotFound(loaded.status())) return absl::UnauthenticatedError(kNotSignedIn);
    return loaded.status();
  }
  if (cached_ && cached_->token() != loaded->token()) {
    LogInfo("the credentials file changed behind the agent's back; reloaded");
  }
  cached_ = *loaded;
  return loaded;
}

absl::StatusOr<Session::Snapshot> Session::Read() {
  Snapshot snapshot;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked(&snapshot.warnings);
    if (!current.ok()) return current.status();
    snapshot.credentials = *std::move(current);
  }
  absl::StatusOr<server::v1::UserInfo> user = identity_.FetchUserInfo(snapshot.credentials.token());
  if (!user.ok()) return user.status();
  snapshot.user = *std::move(user);
  return snapshot;
}

absl::StatusOr<agent::v1::GetStatusResponse> Session::Status() {
  absl::StatusOr<Snapshot> snapshot = Read();
  if (!snapshot.ok()) return snapshot.status();
  WarnIfNotMember(snapshot->credentials, snapshot->user, &snapshot->warnings);
  agent::v1::GetStatusResponse reply;
  reply.set_email(snapshot->user.email());
  reply.set_active_org_slug(snapshot->credentials.active_org_slug());
  if (const auto* m = FindMembership(snapshot->user, reply.active_org_slug())) {
    reply.set_role(m->role());
  }
  if (snapshot->credentials.has_stored_at()) {
    *reply.mutable_stored_at() = snapshot->credentials.stored_at();
  }
  if (snapshot->credentials.has_token_expires_at()) {
    *reply.mutable_token_expires_at() = snapshot->credentials.token_expires_at();
  }
  reply.set_api_url(api_url_);
  for (auto& w : snapshot->warnings) reply.add_warnings(std::move(w));
  return reply;
}

absl::StatusOr<agent::v1::ListOrgsResponse> Session::ListOrgs() {
  absl::StatusOr<Snapshot> snapshot = Read();
  if (!snapshot.ok()) return snapshot.status();
  WarnIfNotMember(snapshot->credentials, snapshot->user, &snapshot->warnings);
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
  absl::StatusOr<Snapshot> snapshot = Read();
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
  agent::v1::UseOrgResponse reply;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ignored;
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked(&ignored);
    if (!current.ok()) return current.status();
    if (current->token() != snapshot->credentials.token()) {
      return absl::AbortedError("the session changed while switching organizations; try again");
    }
    agent::v1::Credentials updated = *std::move(current);
    updated.set_active_org_slug(std::string(slug));
    if (absl::Status saved = store_.Save(updated); !saved.ok()) return saved;
    fingerprint_ = store_.Fingerprint();
    cached_ = updated;
  }
  LogInfo("active organization switched to %s", slug);
  reply.set_email(snapshot->user.email());
  reply.set_active_org_slug(std::string(slug));
  reply.set_role(membership->role());
  for (auto& w : snapshot->warnings) reply.add_warnings(std::move(w));
  return reply;
}

absl::Status Session::RevokeTokens(const agent::v1::Credentials& credentials) {
  absl::Status revoked = identity_.Revoke(credentials.token(), "access_token");
  if (revoked.ok() && !credentials.refresh_token().empty()) {
    revoked = identity_.Revoke(credentials.refresh_token(), "refresh_token");
  }
  return revoked;
}

absl::StatusOr<agent::v1::LogoutResponse> Session::Logout() {
  agent::v1::LogoutResponse reply;
  agent::v1::Credentials ending;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ignored;
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked(&ignored);
    if (absl::IsUnauthenticated(current.status())) {
      reply.set_status("no_credential");
      return reply;
    }
    if (!current.ok()) return current.status();
    ending = *std::move(current);
    if (absl::Status removed = store_.Remove(); !removed.ok()) return removed;
    fingerprint_ = store_.Fingerprint();
    cached_.reset();
  }
  LogInfo("signed out; revoking the session's tokens");
  reply.set_status("logged_out");
  absl::Status revoked = RevokeTokens(ending);
  reply.set_revoked(revoked.ok());
  if (!revoked.ok()) {
    LogWarning("server-side revocation did not happen: %s", revoked.message());
    reply.set_revocation_error(std::string(revoked.message()));
  }
  return reply;
}

}  // namespace datagen

namespace datagen {

absl::StatusOr<agent::v1::LoginResult> Session::CompleteLogin(const IssuedTokens& tokens) {
  absl::StatusOr<server::v1::UserInfo> user = identity_.FetchUserInfo(tokens.access_token);
  if (!user.ok()) {
    return absl::Status(user.status().code(),
                        absl::StrCat("signed in, but could not read your identity; nothing was "
                                     "stored: ",
                                     user.status().message()));
  }
  agent::v1::Credentials fresh;
  fresh.set_token(tokens.access_token);
  fresh.set_refresh_token(tokens.refresh_token);
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
  absl::Time now = clock_.Now();
  fresh.mutable_stored_at()->set_seconds(absl::ToUnixSeconds(now));
  if (tokens.expires_at) {
    fresh.mutable_token_expires_at()->set_seconds(absl::ToUnixSeconds(*tokens.expires_at));
  }
  fresh.set_api_url(api_url_);

  std::optional<agent::v1::Credentials> replaced;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ignored;
    absl::StatusOr<agent::v1::Credentials> current = CurrentLocked(&ignored);
    if (current.ok() && current->token() != fresh.token()) replaced = *std::move(current);
    if (absl::Status saved = store_.Save(fresh); !saved.ok()) return saved;
    fingerprint_ = store_.Fingerprint();
    cached_ = fresh;
  }
  LogInfo("signed in as %s; active organization %s", fresh.email(),
          fresh.active_org_slug().empty() ? "(none)" : fresh.active_org_slug());
  if (replaced) {
    // The new session is stored; only now is the old one given up.
    if (absl::Status revoked = RevokeTokens(*replaced); !revoked.ok()) {
      LogWarning("the previous session could not be revoked: %s", revoked.message());
    }
  }
  agent::v1::LoginResult result;
  result.set_status("authenticated");
  result.set_email(fresh.email());
  result.set_active_org_slug(fresh.active_org_slug());
  return result;
}

}  // namespace datagen
