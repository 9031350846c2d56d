#include "agent/http/helper_protocol.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "agent/common/version.h"
#include "proto/datagen/agent/internal/http.pb.h"

namespace datagen {
namespace {

std::string VersionOrUnknown(const std::string& version) {
  return version.empty() ? "an older version" : version;
}

}  // namespace

std::string EncodeHelperRequest(const HttpRequest& request) {
  agent::internal::HttpExchangeRequest exchange;
  exchange.set_method(request.method);
  exchange.set_url(request.url);
  for (const auto& [name, value] : request.headers) {
    auto* header = exchange.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  exchange.set_body(request.body);
  exchange.set_timeout_ms(absl::ToInt64Milliseconds(request.timeout));
  exchange.set_protocol_version(kHelperProtocolVersion);
  exchange.set_datagen_version(kVersion);
  return exchange.SerializeAsString();
}

absl::StatusOr<HttpRequest> DecodeHelperRequest(absl::string_view bytes) {
  agent::internal::HttpExchangeRequest exchange;
  if (!exchange.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("not an HTTP exchange request");
  }
  if (exchange.protocol_version() != kHelperProtocolVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "datagen-agent-http ", kVersion, " (helper protocol ", kHelperProtocolVersion,
        ") was started by datagen-agent ", VersionOrUnknown(exchange.datagen_version()),
        " (helper protocol ", exchange.protocol_version(),
        "): the two come from different installs; reinstall datagen"));
  }
  HttpRequest request;
  request.method = exchange.method();
  request.url = exchange.url();
  for (const auto& header : exchange.headers()) {
    request.headers.emplace_back(header.name(), header.value());
  }
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
  for (const auto& [name, value] : outcome->headers) {
    auto* header = out.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  out.set_body(outcome->body);
  return out.SerializeAsString();
}

absl::StatusOr<HttpResponse> DecodeHelperOutcome(absl::string_view bytes) {
  agent::internal::HttpExchangeResponse response;
  if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InternalError("the HTTP helper's reply is unreadable");
  }
  if (response.protocol_version() != kHelperProtocolVersion) {
    return absl::InternalError(absl::StrCat(
        "datagen-agent ", kVersion, " (helper protocol ", kHelperProtocolVersion,
        ") found a datagen-agent-http of ", VersionOrUnknown(response.datagen_version()),
        " (helper protocol ", response.protocol_version(),
        "): the two come from different installs; reinstall datagen"));
  }
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
  for (const auto& header : response.headers()) {
    out.headers.emplace_back(header.name(), header.value());
  }
  out.body = response.body();
  return out;
}

}  // namespace datagen
