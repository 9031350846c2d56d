// The identity servers (issuers) the agent talks to: the one it is configured with, and the one
// each stored session and pending revocation came from. A token is only ever sent to the issuer
// that issued it (docs/agent.md "Security"), so every request about a session goes through the
// issuer recorded with it, never simply through the configured one.
#ifndef DATAGEN_AGENT_OAUTH_ISSUERS_H_
#define DATAGEN_AGENT_OAUTH_ISSUERS_H_

#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "agent/http/http_transport.h"
#include "agent/oauth/discovery.h"
#include "agent/oauth/identity_client.h"

namespace datagen {

// One issuer's clients. Discovery is cached per issuer for the agent's lifetime.
struct Issuer {
  Issuer(HttpTransport& transport, const std::string& url, const std::string& client_id)
      : discovery(transport, url), identity(transport, discovery, client_id) {}
  Discovery discovery;
  IdentityClient identity;
};

// Thread-safe. Does not own `transport`, which must outlive it.
class Issuers {
 public:
  // `configured`: the issuer new logins go to unless the caller names another
  // (DATAGEN_API_URL of the agent, or --api-url).
  Issuers(HttpTransport& transport, std::string client_id, std::string configured);

  // The issuer's clients, for a URL from Resolve or OfRecord. The same object for the same URL
  // (a trailing '/' is ignored) while it is among the most recently used kMaxKept; callers keep
  // it alive as long as they use it. "" (an unknown issuer) gives clients that send nothing:
  // every request fails with FailedPrecondition (kUnknownIssuerReason).
  std::shared_ptr<Issuer> For(absl::string_view url) ABSL_LOCKS_EXCLUDED(mu_);

  // Where a login asked to go at `url` signs in: `url` itself, or the configured issuer ("").
  std::string Resolve(absl::string_view url) const;

  // The issuer a session or pending revocation recorded as `url` belongs to: `url` itself; for a
  // record without one (""), kDefaultIssuer while that is the configured issuer too, else ""
  // (unknown: nothing is sent anywhere, rather than to whatever server is configured now).
  std::string OfRecord(absl::string_view url) const;

  const std::string& configured() const { return configured_; }
  HttpTransport& transport() { return transport_; }
  const std::string& client_id() const { return client_id_; }

  // URLs compare equal with and without a trailing '/'.
  static std::string Canonical(absl::string_view url);

  static constexpr size_t kMaxKept = 8;

 private:
  HttpTransport& transport_;
  const std::string client_id_;
  const std::string configured_;
  absl::Mutex mu_;
  // Most recently used first.
  std::list<std::pair<std::string, std::shared_ptr<Issuer>>> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_OAUTH_ISSUERS_H_
