// HttpTransport over libcurl. The only file in the project that includes curl.
#ifndef DATAGEN_AGENT_HTTP_CURL_HTTP_TRANSPORT_H_
#define DATAGEN_AGENT_HTTP_CURL_HTTP_TRANSPORT_H_

#include "agent/http/http_transport.h"

namespace datagen {

// Certificates are verified with libcurl's defaults (SSL_CERT_FILE / CURL_CA_BUNDLE honoured);
// proxies come from the usual environment variables, except that loopback hosts are always
// reached directly. Redirects are not followed (an OAuth endpoint that redirects is an error).
// Only http and https. Plain http is refused for non-loopback hosts (CheckUrlAllowed).
//
// Thread-safe: each Send uses its own curl handle. Call CurlHttpTransport::GlobalInit() once
// in main before any thread starts.
class CurlHttpTransport final : public HttpTransport {
 public:
  static void GlobalInit();

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_CURL_HTTP_TRANSPORT_H_
