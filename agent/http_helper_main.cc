// datagen-agent-http: performs one HTTP exchange for datagen-agent (see
// helper_http_transport.h). Reads an HttpExchangeRequest on stdin, writes an
// HttpExchangeResponse on stdout, exits 0. Not meant to be run by hand.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "agent/common/fd_io.h"
#include "agent/http/curl_http_transport.h"
#include "agent/http/helper_protocol.h"

int main() {
  // It holds a token for as long as it runs: not readable by other processes, no core file.
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  std::string input;
  char buffer[64 * 1024];
  ssize_t n;
  while ((n = read(STDIN_FILENO, buffer, sizeof(buffer))) > 0) {
    input.append(buffer, n);
    if (input.size() > 2 * datagen::kMaxResponseBytes) return 2;  // requests are small
  }
  absl::StatusOr<datagen::HttpRequest> request = datagen::DecodeHelperRequest(input);
  if (absl::IsFailedPrecondition(request.status())) {
    // Another protocol: answer (in this protocol) so that the agent can say what is wrong.
    std::string refusal = datagen::EncodeHelperOutcome(request.status());
    return datagen::WriteAll(STDOUT_FILENO, refusal) ? 0 : 1;
  }
  if (!request.ok()) return 2;
  datagen::CurlHttpTransport::GlobalInit();
  datagen::CurlHttpTransport transport;
  std::string bytes = datagen::EncodeHelperOutcome(transport.Send(*request));
  return datagen::WriteAll(STDOUT_FILENO, bytes) ? 0 : 1;
}
