#include "agent/oauth/discovery.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/common/json.h"
#include "agent/common/log.h"
#include "agent/common/text.h"
#include "agent/http/url.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {
namespace {

constexpr absl::string_view kWellKnown[] = {
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
};

std::string TrimSlash(std::string issuer) {
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  return issuer;
}

}  // namespace

Discovery::Discovery(HttpTransport& transport, std::string issuer)
    : transport_(transport), issuer_(TrimSlash(std::move(issuer))) {}

absl::StatusOr<Endpoints> Discovery::Get() {
  {
    absl::MutexLock lock(&mu_);
    if (cached_) return *cached_;
  }
  // Fetched outside the lock: a slow server must not block callers that find it cached later.
  absl::StatusOr<Endpoints> endpoints = Fetch();
  if (endpoints.ok()) {
    absl::MutexLock lock(&mu_);
    cached_ = *endpoints;
  }
  return endpoints;
}

void Discovery::Invalidate() {
  absl::MutexLock lock(&mu_);
  cached_.reset();
}

absl::StatusOr<Endpoints> Discovery::Fetch() {
  if (issuer_.empty()) return absl::FailedPreconditionError(kUnknownIssuerReason);
  if (absl::Status allowed = CheckUrlAllowed(issuer_); !allowed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("DATAGEN_API_URL is not usable: ", allowed.message()));
  }
  Endpoints endpoints{issuer_,
                      JoinUrl(issuer_, "/oauth/device/code"),
                      JoinUrl(issuer_, "/oauth/token"),
                      JoinUrl(issuer_, "/oauth/revoke"),
                      JoinUrl(issuer_, "/v1/me"),
                      "defaults"};
  for (absl::string_view well_known : kWellKnown) {
    HttpRequest request;
    request.url = issuer_ + std::string(well_known);
    request.headers = {{"Accept", "application/json"}};
    request.timeout = absl::Seconds(10);
    absl::StatusOr<HttpResponse> response = transport_.Send(request);
    if (!response.ok()) return TransportError(response.status(), "discovery failed");
    if (response->status == 404) continue;
    if (response->status != 200) {
      return absl::UnavailableError(
          absl::StrCat("discovery at ", request.url, " answered HTTP ", response->status));
    }
    server::v1::ServerMetadata metadata;
    if (absl::Status parsed = ParseJson(response->body, "the discovery document", &metadata);
        !parsed.ok()) {
      return parsed;
    }
    // OpenID Connect Discovery 4.3, RFC 8414 3.3: the document must name the issuer it was
    // fetched for, or it describes someone else's endpoints (a mix-up): nothing goes to them.
    if (TrimSlash(metadata.issuer()) != issuer_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the discovery document at ", request.url, " names the issuer \"",
          PrintableText(metadata.issuer(), 300), "\", not the configured ", issuer_,
          "; refusing to use its endpoints (check DATAGEN_API_URL: it must be the issuer URL "
          "exactly)"));
    }
    auto take = [](const std::string& found, std::string* slot) -> absl::Status {
      if (found.empty()) return absl::OkStatus();  // keep the default path for this one
      if (absl::Status allowed = CheckUrlAllowed(found); !allowed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("the discovery document names an unusable endpoint: ", allowed.message()));
      }
      *slot = found;
      return absl::OkStatus();
    };
    for (absl::Status s :
         {take(metadata.device_authorization_endpoint(), &endpoints.device_authorization),
          take(metadata.token_endpoint(), &endpoints.token),
          take(metadata.revocation_endpoint(), &endpoints.revocation),
          take(metadata.userinfo_endpoint(), &endpoints.userinfo)}) {
      if (!s.ok()) return s;
    }
    endpoints.source = std::string(absl::StripPrefix(well_known, "/.well-known/"));
    break;
  }
  LogInfo("identity server %s: endpoints from %s", issuer_, endpoints.source);
  return endpoints;
}

}  // namespace datagen
