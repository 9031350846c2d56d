// The bytes between the agent and its HTTP helper (datagen-agent-http): one request written to
// the helper's stdin, one outcome read from its stdout (proto/datagen/agent/internal/http.proto).
// Both ends use these four functions, so that what one writes the other reads.
//
// Pure functions; thread-safe. Request bodies hold tokens: callers wipe the bytes when done.
#ifndef DATAGEN_AGENT_HTTP_HELPER_PROTOCOL_H_
#define DATAGEN_AGENT_HTTP_HELPER_PROTOCOL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/http/http_transport.h"

namespace datagen {

// The protocol between the agent and its helper. Both ends refuse the other's messages when it
// differs (a helper from another install): FailedPrecondition from the helper, Internal at the
// agent, each naming both versions and saying to reinstall.
inline constexpr uint32_t kHelperProtocolVersion = 1;

// The agent's side: the request to send; the helper's outcome, read back (an error carries its
// code, message and, for an oversized body, kHttpStatusPayload). Internal when the bytes are not
// an outcome at all.
std::string EncodeHelperRequest(const HttpRequest& request);
absl::StatusOr<HttpResponse> DecodeHelperOutcome(absl::string_view bytes);

// The helper's side: the request it was given (its cancel is null); InvalidArgument when the
// bytes are not a request, FailedPrecondition when it is of another protocol. And the outcome
// to write back (an error too is written back, so that the agent can show it).
absl::StatusOr<HttpRequest> DecodeHelperRequest(absl::string_view bytes);
std::string EncodeHelperOutcome(const absl::StatusOr<HttpResponse>& outcome);

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_HELPER_PROTOCOL_H_
