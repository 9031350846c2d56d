// How every reply of the agent's gRPC service ends: the canonical code (absl and gRPC number
// their codes alike), the reason an error carries in the trailers (x-datagen-reason), and the
// marks of this agent (x-datagen-agent, its version and binary). Shared by the unary calls and
// the streams.
//
// Pure functions over the call's context; called on the thread that finishes the call.
#ifndef DATAGEN_AGENT_RPC_CALL_REPLY_H_
#define DATAGEN_AGENT_RPC_CALL_REPLY_H_

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// The same canonical code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `status` as this reply ends: its reason (reason.h) in the trailers, then the canonical code.
grpc::Status Reply(grpc::CallbackServerContext* context, const absl::Status& status);

// Marks a reply as this agent's (kAgentReplyKey), with its version and binary identity.
void MarkReply(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info);

}  // namespace datagen

#endif  // DATAGEN_AGENT_RPC_CALL_REPLY_H_
