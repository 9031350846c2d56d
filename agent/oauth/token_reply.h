// Token endpoint replies (RFC 6749 §5.1-5.2), shared by the device flow and refresh.
#ifndef DATAGEN_AGENT_OAUTH_TOKEN_REPLY_H_
#define DATAGEN_AGENT_OAUTH_TOKEN_REPLY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/common/text.h"
#include "agent/http/http_transport.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {

// "error: description" of an OAuth error reply (RFC 6749 §5.2), made printable and bounded.
std::string DescribeOAuthError(const server::v1::ErrorResponse& error);

// A one-line description of a server's OAuth error reply ("invalid_grant: the code was used"),
// or "HTTP <status>" when the body is not such a reply. Never quotes anything else of the body.
std::string DescribeErrorReply(const HttpResponse& response);

// A successful token response (RFC 6749 §5.1), validated.
struct IssuedTokens {
  std::string access_token;
  std::string refresh_token;  // "" when none was issued
  // The access token's lifetime from when the reply arrived, when the server gave expires_in
  // (bounded to a year). Callers turn it into a time with their own clock.
  std::optional<absl::Duration> expires_in;
  std::string scope;
};

// A token endpoint reply: tokens on success, else the OAuth error and its description (made
// printable and bounded).
struct TokenReply {
  std::optional<IssuedTokens> tokens;
  std::string error;
  std::string description;
};
// Parses a token endpoint reply body, JSON or application/x-www-form-urlencoded (chosen by
// `content_type`, else by sniffing). InvalidArgument (never quoting the body) when it is
// neither a success nor an OAuth error, or when a success reply is malformed: no access token, a
// token_type other than Bearer, a non-positive expires_in, or a token with invalid characters.
absl::StatusOr<TokenReply> ParseTokenReply(absl::string_view content_type, absl::string_view body);

}  // namespace datagen

#endif  // DATAGEN_AGENT_OAUTH_TOKEN_REPLY_H_
