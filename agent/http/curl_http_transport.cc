#include "agent/http/curl_http_transport.h"

#include <curl/curl.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/common/text.h"
#include "agent/http/url.h"

namespace datagen {
namespace {

struct Exchange {
  HttpResponse response;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  size_t bytes = size * count;
  if (exchange->response.body.size() + bytes > kMaxResponseBytes) {
    exchange->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  exchange->response.body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  size_t bytes = size * count;
  absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    exchange->response.headers.clear();  // a new response (e.g. after 100 Continue)
  } else if (size_t colon = line.find(':'); colon != absl::string_view::npos) {
    exchange->response.headers.emplace_back(
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return bytes;
}

// Aborts the transfer once the request's cancel notification fires (curl calls this about once
// a second even while nothing arrives).
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const absl::Notification*>(user);
  return cancel->HasBeenNotified() ? 1 : 0;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

void CurlHttpTransport::GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }

namespace {

// The transfer's settings: no redirects, HTTP(S) only, the request's timeout, the body and
// header callbacks into `exchange`, cancellation, no proxy for loopback, the CA bundle variables.
void SetOptions(CURL* h, const HttpRequest& request, const ParsedUrl& url, Exchange* exchange,
                char* error) {
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  curl_easy_setopt(
      h, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(std::min<int64_t>(5000, absl::ToInt64Milliseconds(request.timeout))));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE, static_cast<long>(kMaxResponseBytes));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, exchange);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, exchange);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "datagen-agent/1");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  if (request.cancel != nullptr) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, request.cancel);
  }
  if (IsLoopbackHost(url.host)) {
    curl_easy_setopt(h, CURLOPT_PROXY, "");  // never send loopback traffic through a proxy
  }
  // Certificate verification is libcurl's default; honour the conventional CA bundle variables.
  for (const char* var : {"SSL_CERT_FILE", "CURL_CA_BUNDLE"}) {
    if (const char* bundle = std::getenv(var); bundle != nullptr && *bundle != '\0') {
      curl_easy_setopt(h, CURLOPT_CAINFO, bundle);
      break;
    }
  }
}

// What a finished transfer means: the response, or the error HttpTransport::Send documents.
absl::StatusOr<HttpResponse> Outcome(CURL* h, CURLcode code, const ParsedUrl& url,
                                     Exchange* exchange, const char* error) {
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (exchange->too_large || code == CURLE_FILESIZE_EXCEEDED) {
    absl::Status oversized = absl::ResourceExhaustedError(absl::StrCat(
        "the reply from ", url.host, " was larger than ", kMaxResponseBytes, " bytes"));
    oversized.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(status)));
    return oversized;
  }
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    return absl::CancelledError(absl::StrCat("the request to ", url.host, " was cancelled"));
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return absl::UnavailableError(absl::StrCat("timed out talking to ", url.host));
  }
  if (code != CURLE_OK) {
    // curl's text may quote a proxy URL whole, password included.
    std::string detail = RedactUrlUserinfo(*error != '\0' ? error : curl_easy_strerror(code));
    return absl::UnavailableError(absl::StrCat("could not reach ", url.host, ": ", detail));
  }
  exchange->response.status = static_cast<int>(status);
  return std::move(exchange->response);
}

}  // namespace

absl::StatusOr<HttpResponse> CurlHttpTransport::Send(const HttpRequest& request) {
  absl::StatusOr<ParsedUrl> url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  if (absl::Status allowed = CheckUrlAllowed(request.url); !allowed.ok()) return allowed;
  if (request.method != "GET" && request.method != "POST") {
    return absl::InvalidArgumentError(absl::StrCat("unsupported HTTP method ", request.method));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::InternalError("libcurl could not create a handle");
  CURL* h = curl.get();
  Exchange exchange;
  char error[CURL_ERROR_SIZE] = "";
  SetOptions(h, request, *url, &exchange, error);
  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    raw_headers = curl_slist_append(raw_headers, absl::StrCat(name, ": ", value).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  CURLcode code = curl_easy_perform(h);
  return Outcome(h, code, *url, &exchange, error);
}

}  // namespace datagen
