#include "agent/oauth/token_reply.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/common/json.h"
#include "agent/http/url.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {
namespace {

constexpr absl::Duration kMaxTokenLifetime = absl::Hours(24 * 365);

bool LooksLikeForm(absl::string_view content_type, absl::string_view body) {
  std::string type = absl::AsciiStrToLower(content_type);
  if (absl::StrContains(type, "application/x-www-form-urlencoded")) return true;
  if (absl::StrContains(type, "json")) return false;
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(body);
  return !trimmed.empty() && trimmed[0] != '{' && absl::StrContains(trimmed, '=');
}

// Reads a form-encoded reply into the JSON message's fields.
absl::Status FormToTokenResponse(absl::string_view body, server::v1::TokenResponse* tokens,
                                 server::v1::ErrorResponse* error) {
  for (const auto& [name, value] : FormDecode(body)) {
    if (name == "access_token") tokens->set_access_token(value);
    if (name == "token_type") tokens->set_token_type(value);
    if (name == "refresh_token") tokens->set_refresh_token(value);
    if (name == "scope") tokens->set_scope(value);
    if (name == "error") error->set_error(value);
    if (name == "error_description") error->set_error_description(value);
    if (name == "expires_in") {
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(value, &seconds)) {
        return absl::InvalidArgumentError("the token reply's expires_in is not a number");
      }
      tokens->set_expires_in(seconds);
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DescribeOAuthError(const server::v1::ErrorResponse& error) {
  std::string text = PrintableText(error.error(), 64);
  if (!error.error_description().empty()) {
    absl::StrAppend(&text, ": ", PrintableText(error.error_description()));
  }
  return text;
}

absl::StatusOr<TokenReply> ParseTokenReply(absl::string_view content_type, absl::string_view body) {
  server::v1::TokenResponse tokens;
  server::v1::ErrorResponse error;
  if (LooksLikeForm(content_type, body)) {
    if (absl::Status s = FormToTokenResponse(body, &tokens, &error); !s.ok()) return s;
  } else {
    if (absl::Status s = ParseJson(body, "the token reply", &tokens); !s.ok()) return s;
    (void)ParseJson(body, "the token reply", &error);  // the same text, read as an error
  }
  TokenReply reply;
  if (!error.error().empty() && tokens.access_token().empty()) {
    reply.error = error.error();
    reply.description = DescribeOAuthError(error);
    return reply;
  }
  if (tokens.access_token().empty()) {
    return absl::InvalidArgumentError("the token reply has no access_token");
  }
  if (!IsTokenText(tokens.access_token())) {
    return absl::InvalidArgumentError("the token reply's access_token is not a valid token");
  }
  if (!absl::EqualsIgnoreCase(tokens.token_type(), "bearer")) {
    return absl::InvalidArgumentError("the token reply's token_type is not Bearer");
  }
  if (!tokens.refresh_token().empty() && !IsTokenText(tokens.refresh_token())) {
    return absl::InvalidArgumentError("the token reply's refresh_token is not a valid token");
  }
  IssuedTokens issued;
  issued.access_token = tokens.access_token();
  issued.refresh_token = tokens.refresh_token();
  issued.scope = IsPrintableText(tokens.scope(), 1024) ? tokens.scope() : "";
  if (tokens.has_expires_in()) {
    if (tokens.expires_in() <= 0) {
      return absl::InvalidArgumentError("the token reply's expires_in is not positive");
    }
    issued.expires_in = std::min(absl::Seconds(tokens.expires_in()), kMaxTokenLifetime);
  }
  reply.tokens = std::move(issued);
  return reply;
}

std::string DescribeErrorReply(const HttpResponse& response) {
  server::v1::ErrorResponse error;
  if (ParseJson(response.body, "error reply", &error).ok() && !error.error().empty()) {
    return DescribeOAuthError(error);
  }
  return absl::StrCat("HTTP ", response.status);
}

}  // namespace datagen
