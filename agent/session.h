// The agent's one source of truth about the user's session: the stored credentials (reloaded
// when the file changes behind the agent's back) and what the identity server says about them.
#ifndef DATAGEN_AGENT_SESSION_H_
#define DATAGEN_AGENT_SESSION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "agent/clock.h"
#include "agent/credential_store.h"
#include "agent/device_flow.h"
#include "agent/identity_client.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// Thread-safe. Store access is serialized by an internal lock that is never held across a
// network request, so a slow server delays only the calls that need it. Does not own its
// collaborators, which must outlive it.
//
// Errors follow agent.proto: Unauthenticated when signed out or the token is rejected,
// Unavailable when the server cannot be reached, DataLoss for a corrupt file (moved aside),
// FailedPrecondition for unsafe files or an org the user does not belong to.
class Session {
 public:
  Session(CredentialStore& store, IdentityClient& identity, Clock& clock, std::string api_url);

  absl::StatusOr<agent::v1::GetStatusResponse> Status() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<agent::v1::ListOrgsResponse> ListOrgs() ABSL_LOCKS_EXCLUDED(mu_);
  // InvalidArgument for a malformed slug. Leaves the file untouched on any error.
  absl::StatusOr<agent::v1::UseOrgResponse> UseOrg(absl::string_view slug) ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes the local credentials first, then revokes their tokens at the server.
  absl::StatusOr<agent::v1::LogoutResponse> Logout() ABSL_LOCKS_EXCLUDED(mu_);

  // Finishes a login: reads the new token's identity, picks the default organization (the
  // membership marked default, else the first), stores the credentials atomically, and then
  // revokes the session it replaced, if any. Nothing is stored when any step before the store
  // fails.
  absl::StatusOr<agent::v1::LoginResult> CompleteLogin(const IssuedTokens& tokens)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The credentials and the server's view of them, read together for one call.
  struct Snapshot {
    agent::v1::Credentials credentials;
    server::v1::UserInfo user;
    std::vector<std::string> warnings;
  };

  // The current credentials, reloaded from the store when its fingerprint changed.
  absl::StatusOr<agent::v1::Credentials> CurrentLocked(std::vector<std::string>* warnings)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Revokes the access token, then the refresh token if any (RFC 7009). Never under mu_.
  absl::Status RevokeTokens(const agent::v1::Credentials& credentials) ABSL_LOCKS_EXCLUDED(mu_);
  // Current credentials plus a userinfo round trip (outside the lock).
  absl::StatusOr<Snapshot> Read() ABSL_LOCKS_EXCLUDED(mu_);

  CredentialStore& store_;
  IdentityClient& identity_;
  Clock& clock_;
  const std::string api_url_;

  absl::Mutex mu_;
  std::string fingerprint_ ABSL_GUARDED_BY(mu_);
  std::optional<agent::v1::Credentials> cached_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_H_
