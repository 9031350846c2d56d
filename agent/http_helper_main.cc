// datagen-agent-http: performs one HTTP exchange for datagen-agent (see
// helper_http_transport.h). Reads an HttpExchangeRequest on stdin, writes an
// HttpExchangeResponse on stdout, exits 0. Not meant to be run by hand.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "agent/curl_http_transport.h"
#include "agent/fd_io.h"
#include "proto/datagen/agent/internal/http.pb.h"

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
  datagen::agent::internal::HttpExchangeRequest exchange;
  if (!exchange.ParseFromString(input)) return 2;
  datagen::HttpRequest request;
  request.method = exchange.method();
  request.url = exchange.url();
  for (const auto& header : exchange.headers()) {
    request.headers.emplace_back(header.name(), header.value());
  }
  request.body = exchange.body();
  request.timeout = absl::Milliseconds(exchange.timeout_ms());

  datagen::CurlHttpTransport::GlobalInit();
  datagen::CurlHttpTransport transport;
  absl::StatusOr<datagen::HttpResponse> response = transport.Send(request);
  datagen::agent::internal::HttpExchangeResponse out;
  if (!response.ok()) {
    out.set_error_code(static_cast<int>(response.status().code()));
    out.set_error_message(std::string(response.status().message()));
    out.set_oversized_status(datagen::OversizedReplyStatus(response.status()));
  } else {
    out.set_status(response->status);
    for (const auto& [name, value] : response->headers) {
      auto* header = out.add_headers();
      header->set_name(name);
      header->set_value(value);
    }
    out.set_body(response->body);
  }
  std::string bytes = out.SerializeAsString();
  return datagen::WriteAll(STDOUT_FILENO, bytes) ? 0 : 1;
}
