// URL helpers: the transport policy (https, or http to loopback only), form encoding, and
// joining an issuer with a path.
#ifndef DATAGEN_AGENT_HTTP_URL_H_
#define DATAGEN_AGENT_HTTP_URL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace datagen {

struct ParsedUrl {
  std::string scheme;  // lower case: "http" or "https"
  std::string host;    // lower case, without brackets for IPv6
  int port = 0;        // 0 when not given
  std::string path;    // from the first '/', with query; "/" when empty
};

// Parses an absolute http(s) URL. InvalidArgument otherwise.
absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url);

// True for localhost, 127.0.0.0/8 and ::1.
bool IsLoopbackHost(absl::string_view host);

// OK for https:// URLs and for http:// URLs whose host is loopback (docs/identity-server.md); else
// InvalidArgument explaining the rule. No userinfo ("user:pass@") is allowed.
absl::Status CheckUrlAllowed(absl::string_view url);

// application/x-www-form-urlencoded encoding of name/value pairs.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// Percent-encodes one query or form component.
std::string UrlEscape(absl::string_view text);

// Decodes application/x-www-form-urlencoded text (used for token replies sent as forms).
std::vector<std::pair<std::string, std::string>> FormDecode(absl::string_view body);

// issuer + path with exactly one '/' between them.
std::string JoinUrl(absl::string_view base, absl::string_view path);

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_URL_H_
