// Why a call failed, beyond its canonical code: a datagen.agent.v1.ErrorReason carried on an
// absl::Status (as a payload) from where the error is made to the RPC edge, which sends it as the
// trailing metadata kErrorReasonKey (wire_contract.h). Clients decide on code and reason, never on
// message text (issue 23; abseil's "canonical code plus a structured reason").
//
// Thread-compatible free functions; no state.
#ifndef DATAGEN_AGENT_COMMON_REASON_H_
#define DATAGEN_AGENT_COMMON_REASON_H_

#include <string>

#include "absl/status/status.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// `status` with `reason` attached (an OK status is returned as it is).
absl::Status WithReason(absl::Status status, agent::v1::ErrorReason reason);

// The reason attached to `status`, or ERROR_REASON_UNSPECIFIED.
agent::v1::ErrorReason ReasonOf(const absl::Status& status);

// The value's name as sent on the wire ("ERROR_REASON_NOT_A_MEMBER"), and back (UNSPECIFIED for
// a name this build does not know, as a newer agent may send).
std::string ReasonName(agent::v1::ErrorReason reason);
agent::v1::ErrorReason ReasonFromName(const std::string& name);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_REASON_H_
