// What the agent and every client of its socket agree on beyond proto/: the metadata that the
// service attaches to its replies. One definition, used by both ends.
#ifndef DATAGEN_AGENT_COMMON_WIRE_CONTRACT_H_
#define DATAGEN_AGENT_COMMON_WIRE_CONTRACT_H_

namespace datagen {

// Metadata on every reply of the agent's service (see agent.proto), initial or trailing: lets a
// client tell the agent's own UNAVAILABLE (the identity server is unreachable) from not reaching
// the agent at all.
inline constexpr char kAgentReplyKey[] = "x-datagen-agent";

// Metadata on every reply too: the agent's version and its binary's identity at start
// (AgentInfo.version, AgentInfo.binary_id), so that a client notices an agent left running from
// before an upgrade without another call.
inline constexpr char kAgentVersionKey[] = "x-datagen-agent-version";
inline constexpr char kAgentBinaryKey[] = "x-datagen-agent-binary";

// Trailing metadata of an error whose cause the agent knows beyond the code: the name of a
// datagen.agent.v1.ErrorReason value ("ERROR_REASON_NOT_A_MEMBER"). See agent/common/reason.h.
inline constexpr char kErrorReasonKey[] = "x-datagen-reason";

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_WIRE_CONTRACT_H_
