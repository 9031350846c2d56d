// HttpTransport that performs each exchange in a short-lived helper process
// (datagen-agent-http, which alone links libcurl and OpenSSL). The agent itself never maps
// curl, OpenSSL or their dependencies (about 6 MiB of its resident memory), and never parses
// TLS from the network in the process that holds the session.
#ifndef DATAGEN_AGENT_HTTP_HELPER_HTTP_TRANSPORT_H_
#define DATAGEN_AGENT_HTTP_HELPER_HTTP_TRANSPORT_H_

#include <string>

#include "agent/http/http_transport.h"

namespace datagen {

// Thread-safe: each Send spawns its own helper. A helper that outlives the request's timeout
// (plus a grace second) or whose request is cancelled is killed.
class HelperHttpTransport final : public HttpTransport {
 public:
  // `helper_path`: the datagen-agent-http executable.
  explicit HelperHttpTransport(std::string helper_path);

  // The helper beside the running executable, else in ../libexec/datagen/ (installed), else on
  // PATH (FindCompanionBinary).
  static std::string HelperBesideSelf();

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  const std::string helper_path_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_HELPER_HTTP_TRANSPORT_H_
