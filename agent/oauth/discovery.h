// The identity server's endpoints: OpenID Connect Discovery, then RFC 8414, then default paths
// (docs/identity-server.md, "The issuer and its endpoints").
#ifndef DATAGEN_AGENT_OAUTH_DISCOVERY_H_
#define DATAGEN_AGENT_OAUTH_DISCOVERY_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/http/http_transport.h"

namespace datagen {

// The built-in issuer: where the agent signs in when nothing else is configured, and the only
// issuer a session recorded without an issuer (a hand-written or older credentials file) can
// belong to.
inline constexpr char kDefaultIssuer[] = "https://api.datagen.example";

// Why a stored session or pending revocation recorded without an issuer is not used while the
// agent is configured for another issuer than kDefaultIssuer (see Issuers::OfRecord).
inline constexpr char kUnknownIssuerReason[] =
    "the session's identity server is unknown: the credentials file names none (no \"api_url\"), "
    "and this agent is configured for another server than the default " /* kDefaultIssuer */
    "https://api.datagen.example, so the token was sent nowhere; sign in again "
    "(datagen auth login), or add \"api_url\" with the server that issued it to the file";

struct Endpoints {
  // The issuer they belong to (the configured URL, without a trailing '/').
  std::string issuer;
  std::string device_authorization;
  std::string token;
  std::string revocation;
  std::string userinfo;
  // Where they came from: "openid-configuration", "oauth-authorization-server" or "defaults".
  std::string source;
};

// Thread-safe. Fetches the metadata on first use and caches it for the object's lifetime;
// Invalidate() (called after a request to a cached endpoint failed) makes the next Get fetch
// again. Does not own `transport`, which must outlive it.
class Discovery {
 public:
  // `issuer` is the base URL (DATAGEN_API_URL); a trailing '/' is ignored.
  Discovery(HttpTransport& transport, std::string issuer);

  // The endpoints. Unavailable when the server cannot be reached or answers the discovery
  // request with an error other than 404 (not cached: the next call tries again);
  // InvalidArgument when the issuer or a discovered endpoint breaks the URL policy, or a
  // discovery document is malformed.
  absl::StatusOr<Endpoints> Get() ABSL_LOCKS_EXCLUDED(mu_);

  void Invalidate() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& issuer() const { return issuer_; }

 private:
  absl::StatusOr<Endpoints> Fetch();

  HttpTransport& transport_;
  const std::string issuer_;
  absl::Mutex mu_;
  std::optional<Endpoints> cached_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_OAUTH_DISCOVERY_H_
