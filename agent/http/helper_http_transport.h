// HttpTransport that performs each exchange in a short-lived helper process
// (datagen-agent-http, which alone links libcurl and OpenSSL). The agent itself never maps
// curl, OpenSSL or their dependencies (about 6 MiB of its resident memory), and never parses
// TLS from the network in the process that holds the session.
#ifndef DATAGEN_AGENT_HTTP_HELPER_HTTP_TRANSPORT_H_
#define DATAGEN_AGENT_HTTP_HELPER_HTTP_TRANSPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/http/http_transport.h"

namespace datagen {

// Thread-safe: each Send spawns its own helper. A helper that outlives the request's timeout
// (plus a grace second) or whose request is cancelled is killed. Each helper gets only
// HelperEnvironment() of the agent's environment (proxy and CA variables), taken once here.
class HelperHttpTransport final : public HttpTransport {
 public:
  // `helper_path`: the datagen-agent-http executable, an absolute path (Locate).
  explicit HelperHttpTransport(std::string helper_path);

  // Where the helper is: `given` (the agent's --http-helper flag) when not empty, which must be
  // an absolute path to an executable; else the helper beside the running executable, else in
  // ../libexec/datagen/ (installed). Never a bare name, a relative path or a PATH lookup: the
  // helper sees every token, and the agent's working directory is wherever the auto-starting
  // shell happened to be. FailedPrecondition, worded as an installation error, when there is none.
  static absl::StatusOr<std::string> Locate(absl::string_view given);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  const std::string helper_path_;
  const std::vector<std::string> environment_;
  std::vector<char*> envp_;  // environment_'s strings, null-terminated, for posix_spawn
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_HELPER_HTTP_TRANSPORT_H_
