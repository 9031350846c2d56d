// The session's credentials for a C++ program, in one call: what `datagen auth token --format
// json` prints, from the agent, with the CLI's trust checks (the socket's folder is the user's
// and closed to others, the agent runs as the user: SO_PEERCRED) and the CLI's autostart. The
// public library other datagen commands link (//client:session_credentials).
//
//   absl::StatusOr<datagen::SessionCredentials> session = datagen::GetSessionCredentials();
//   if (!session.ok()) ...  // Unauthenticated: not signed in; Unavailable: no agent
//   request.headers = {{"Authorization", "Bearer " + session->token}};
//
// Thread-safety: GetSessionCredentials may be called from any thread; each call makes its own
// connection (a few hundred microseconds with an agent running).
#ifndef DATAGEN_CLIENT_SESSION_CREDENTIALS_H_
#define DATAGEN_CLIENT_SESSION_CREDENTIALS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/common/paths.h"

namespace datagen {

struct SessionCredentials {
  std::string token;       // secret: never print or log it
  std::string token_type;  // "Bearer"
  std::string api_url;     // the issuer: the only server the token may go to
  std::string org;         // the organization in effect, and where it came from
  std::string org_source;  // "flag" (the request's), "env" (DATAGEN_ORG), "file"
  std::string profile;
  std::string email;
  std::optional<absl::Time> expires_at;
  bool min_valid_unmet = false;  // the token expires within `min_valid`: the server gives less
};

struct CredentialsRequest {
  std::string profile;  // "": $DATAGEN_PROFILE, else default
  std::string org;      // "": $DATAGEN_ORG, else the profile's active organization
  absl::Duration min_valid = absl::ZeroDuration();  // refresh first unless valid this long
  bool autostart = true;  // start an agent when none runs (unless DATAGEN_NO_AUTOSTART=1)
};

// Unauthenticated when the profile is not signed in (or expired), Unavailable when no agent
// answers or could be started, FailedPrecondition for an unsafe socket folder or an
// organization the user is not a member of, InvalidArgument for a bad profile or org.
absl::StatusOr<SessionCredentials> GetSessionCredentials(const CredentialsRequest& request = {},
                                                         const EnvLookup& env = ProcessEnv());

}  // namespace datagen

#endif  // DATAGEN_CLIENT_SESSION_CREDENTIALS_H_
