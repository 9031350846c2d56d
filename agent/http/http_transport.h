// The agent's only way out to the network: one request in, one response out. The real
// implementation is CurlHttpTransport; tests use a scripted fake.
#ifndef DATAGEN_AGENT_HTTP_HTTP_TRANSPORT_H_
#define DATAGEN_AGENT_HTTP_HTTP_TRANSPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace datagen {

struct HttpRequest {
  std::string method = "GET";  // "GET" or "POST"
  std::string url;
  // Header name/value pairs, sent as given.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body for POST (already encoded; see FormEncode in url.h).
  std::string body;
  // The whole exchange must finish within this.
  absl::Duration timeout = absl::Seconds(15);
  // When given (not owned), notifying it aborts the exchange with Cancelled within about a
  // second: a login nobody waits for any more does not wait for a hanging server.
  const absl::Notification* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;
  // Header names lower-cased; values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header called `name` (lower case), or "" when absent.
  absl::string_view Header(absl::string_view name) const;
};

// The largest response body a transport accepts (docs/identity-server.md: over 1 MiB is an error).
inline constexpr size_t kMaxResponseBytes = 1 << 20;

// The ResourceExhausted error for an oversized body carries the HTTP status of that response
// under this payload key (e.g. "200"), so that callers can tell an oversized success from an
// oversized error reply.
inline constexpr char kHttpStatusPayload[] = "datagen.dev/http-status";

// The HTTP status an oversized-body error carries, or 0.
int OversizedReplyStatus(const absl::Status& status);

// True for HTTP statuses worth retrying later: 429 and 5xx.
inline bool IsRetryableHttpStatus(int status) { return status == 429 || status >= 500; }

// A POST of `fields` as application/x-www-form-urlencoded, asking for JSON: every OAuth
// endpoint the agent calls (RFC 8628 3.1 and 3.4, RFC 6749 6, RFC 7009 2.1).
HttpRequest FormPost(std::string url,
                     const std::vector<std::pair<std::string, std::string>>& fields);

// What a failed Send means, the one classification every caller uses. `context` begins the
// message ("could not reach the server to refresh"):
//   Cancelled           stays Cancelled (nobody waits any more);
//   Unavailable         (connection, timeout, TLS) stays as it is, without `context`: one
//                       wording per outage, whichever step met it; retry later;
//   ResourceExhausted   (a reply over kMaxResponseBytes) becomes Unknown: the server is broken;
//   InvalidArgument     (a URL that policy refuses) becomes FailedPrecondition;
//   anything else       (the HTTP helper is missing or failed) becomes Internal, saying that this
//                       installation is at fault, not the server.
absl::Status TransportError(const absl::Status& failed, absl::string_view context);

// Thread-safe: Send may be called from several threads at once.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Performs the request. Any HTTP status is a successful exchange (the caller interprets it).
  // Errors: Unavailable for connection failures, timeouts and TLS failures (retryable);
  // ResourceExhausted for a body over kMaxResponseBytes (with kHttpStatusPayload); InvalidArgument
  // for a URL that policy forbids (see CheckUrlAllowed); Cancelled when request.cancel was
  // notified. Messages name the host, never the request body.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_HTTP_TRANSPORT_H_
