// Requests about an existing session: userinfo (who the token belongs to and their
// memberships) and RFC 7009 revocation. No state of its own besides what it is given.
#ifndef DATAGEN_AGENT_OAUTH_IDENTITY_CLIENT_H_
#define DATAGEN_AGENT_OAUTH_IDENTITY_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/http/http_transport.h"
#include "agent/oauth/discovery.h"
#include "agent/oauth/token_reply.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {

// Thread-safe. Does not own the transport or discovery, which must outlive it.
class IdentityClient {
 public:
  IdentityClient(HttpTransport& transport, Discovery& discovery, std::string client_id);

  // GET userinfo with the bearer token. Returns a validated document: `email` present,
  // memberships with malformed slugs dropped. Errors: Unauthenticated when the server rejects
  // the token (401/403); Unavailable when it cannot be reached or answers 5xx/429; Unknown for a
  // malformed reply or an unexpected status.
  absl::StatusOr<server::v1::UserInfo> FetchUserInfo(absl::string_view access_token);

  // Revokes one token (RFC 7009). `hint` is "access_token" or "refresh_token". OK when the
  // server answered 200. Unavailable when it could not be reached or answered 5xx/429;
  // Unknown for other answers.
  absl::Status Revoke(absl::string_view token, absl::string_view hint);

  // Exchanges a refresh token for new tokens (RFC 6749 §6). Errors: Unauthenticated when the
  // server refuses it (invalid_grant: the session is over); Unavailable when the server cannot
  // be reached or answers 5xx/429; Unknown for a malformed reply or another error.
  absl::StatusOr<IssuedTokens> Refresh(absl::string_view refresh_token);

 private:
  HttpTransport& transport_;
  Discovery& discovery_;
  const std::string client_id_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_OAUTH_IDENTITY_CLIENT_H_
