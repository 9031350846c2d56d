// The upgrade hand-over policy: when a client has just been answered by an agent left running
// from before an upgrade of the binary the client would start, that agent is asked to hand over
// (Handover) and the call goes to the installed one. AgentClient applies it to every call
// through its dialer and launcher seams; tests/agent_client_test shows it with an in-process
// fake agent and launcher, without an agent process.
//
// Stateless functions; each blocks its caller for at most one call to the agent (kHandoverWait
// more for the agent to go). Thread-compatible: `stub` is used from the calling thread only.
#ifndef DATAGEN_CLIENT_HANDOVER_H_
#define DATAGEN_CLIENT_HANDOVER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace datagen::cli {

// A connected socket to the agent at a path, or why not (AgentClient::Options::dial).
using Dialer = std::function<absl::StatusOr<int>(const std::string& socket_path)>;

// How long AskToHandOver waits for an agent that said it was exiting to stop answering.
inline constexpr absl::Duration kHandoverWait = absl::Seconds(5);

// Whether the agent that answered `answered` (its version and binary identity, from the reply's
// trailers) is one left running from before an upgrade of `installed` (the binary this client
// would start; "" when none is known: never). Only an agent started from that same path
// counts (asked over `stub` with GetAgentInfo): another install's agent, run by hand or by
// systemd from elsewhere, is left alone. An agent that sends no identity cannot hand over.
bool OutdatedAgent(const grpc::ClientContext& answered, const std::string& installed,
                   agent::v1::AuthAgent::StubInterface& stub);

// Asks the agent over `stub` to hand over. True once it said it is exiting now and its socket
// (reached through `dial`) has stopped answering, or kHandoverWait has passed; false when it
// stays (a login in progress keeps it) or cannot hand over.
bool AskToHandOver(agent::v1::AuthAgent::StubInterface& stub, const Dialer& dial,
                   const std::string& socket_path);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_HANDOVER_H_
