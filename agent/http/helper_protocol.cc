#include "agent/http/helper_protocol.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "agent/common/version.h"
#include "proto/datagen/agent/internal/http.pb.h"

namespace datagen {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Both sides' versions, when the peer speaks another helper protocol than this build: `self`
// is this program, and `relation` says how it met the peer ("was started by datagen-agent").
absl::Status MismatchedPeer(absl::StatusCode code, absl::string_view self,
                            absl::string_view relation, int peer_protocol,
                            const std::string& peer_version) {
  return absl::Status(
      code, absl::StrCat(self, " ", kVersion, " (helper protocol ", kHelperProtocolVersion, ") ",
                         relation, " ", peer_version.empty() ? "an older version" : peer_version,
                         " (helper protocol ", peer_protocol,
                         "): the two come from different installs; reinstall datagen"));
}

// Parses the peer's message, and checks that it speaks this build's helper protocol:
// `unreadable` when it does not parse, else MismatchedPeer's error.
template <typename Message>
absl::StatusOr<Message> ParseFromPeer(absl::string_view bytes, absl::Status unreadable,
                                      absl::StatusCode mismatch, absl::string_view self,
                                      absl::string_view relation) {
  Message message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return unreadable;
  if (message.protocol_version() != kHelperProtocolVersion) {
    return MismatchedPeer(mismatch, self, relation, message.protocol_version(),
                          message.datagen_version());
  }
  return message;
}

template <typename Message>
void EncodeHeaders(const Headers& headers, Message* message) {
  for (const auto& [name, value] : headers) {
    auto* header = message->add_headers();
    header->set_name(name);
    header->set_value(value);
  }
}

template <typename Message>
Headers DecodeHeaders(const Message& message) {
  Headers headers;
  for (const auto& header : message.headers()) headers.emplace_back(header.name(), header.value());
  return headers;
}

}  // namespace

std::string EncodeHelperRequest(const HttpRequest& request) {
  agent::internal::HttpExchangeRequest exchange;
  exchange.set_method(request.method);
  exchange.set_url(request.url);
  EncodeHeaders(request.headers, &exchange);
  exchange.set_body(request.body);
  exchange.set_timeout_ms(absl::ToInt64Milliseconds(request.timeout));
  exchange.set_protocol_version(kHelperProtocolVersion);
  exchange.set_datagen_version(kVersion);
  return exchange.SerializeAsString();
}

absl::StatusOr<HttpRequest> DecodeHelperRequest(absl::string_view bytes) {
  absl::StatusOr<agent::internal::HttpExchangeRequest> parsed =
      ParseFromPeer<agent::internal::HttpExchangeRequest>(
          bytes, absl::InvalidArgumentError("not an HTTP exchange request"),
          absl::StatusCode::kFailedPrecondition, "datagen-agent-http",
          "was started by datagen-agent");
  if (!parsed.ok()) return parsed.status();
  const agent::internal::HttpExchangeRequest& exchange = *parsed;
  HttpRequest request;
  request.method = exchange.method();
  request.url = exchange.url();
  request.headers = DecodeHeaders(exchange);
  request.body = exchange.body();
  request.timeout = absl::Milliseconds(exchange.timeout_ms());
  return request;
}

std::string EncodeHelperOutcome(const absl::StatusOr<HttpResponse>& outcome) {
  agent::internal::HttpExchangeResponse out;
  out.set_protocol_version(kHelperProtocolVersion);
  out.set_datagen_version(kVersion);
  if (!outcome.ok()) {
    out.set_error_code(static_cast<int>(outcome.status().code()));
    out.set_error_message(std::string(outcome.status().message()));
    out.set_oversized_status(OversizedReplyStatus(outcome.status()));
    return out.SerializeAsString();
  }
  out.set_status(outcome->status);
  EncodeHeaders(outcome->headers, &out);
  out.set_body(outcome->body);
  return out.SerializeAsString();
}

absl::StatusOr<HttpResponse> DecodeHelperOutcome(absl::string_view bytes) {
  absl::StatusOr<agent::internal::HttpExchangeResponse> parsed =
      ParseFromPeer<agent::internal::HttpExchangeResponse>(
          bytes, absl::InternalError("the HTTP helper's reply is unreadable"),
          absl::StatusCode::kInternal, "datagen-agent", "found a datagen-agent-http of");
  if (!parsed.ok()) return parsed.status();
  const agent::internal::HttpExchangeResponse& response = *parsed;
  if (response.error_code() < 0 || response.error_code() > 16) {
    return absl::InternalError("the HTTP helper's reply has an unknown error code");
  }
  if (response.error_code() != 0) {
    absl::Status error(static_cast<absl::StatusCode>(response.error_code()),
                       response.error_message());
    if (response.oversized_status() != 0) {
      error.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(response.oversized_status())));
    }
    return error;
  }
  HttpResponse out;
  out.status = response.status();
  out.headers = DecodeHeaders(response);
  out.body = response.body();
  return out;
}

}  // namespace datagen
