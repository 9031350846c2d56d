// `datagen auth doctor`: what the CLI can check itself (the agent's socket, whether an agent
// answers, its version, the systemd units), then the agent's own checks (Diagnose), each with a
// verdict and the fix. Never starts an agent and never prints a token.
#ifndef DATAGEN_CLIENT_DOCTOR_H_
#define DATAGEN_CLIENT_DOCTOR_H_

#include "agent/common/paths.h"
#include "client/agent_client.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen::cli {

// Every check, in reading order. `agent` must not auto-start (a doctor looks, it does not fix).
// `profile` ("": default) is the profile whose credentials and issuer are checked.
agent::v1::DiagnoseResponse RunDoctor(AgentClient& agent, const EnvLookup& env,
                                      const std::string& profile = "");

// Text: one line per check ("ok", "warn", "FAIL"), with its fix indented below when not OK.
std::string RenderDoctor(const agent::v1::DiagnoseResponse& report);

// True when every check is OK (doctor's exit code is 0 then, else 1).
bool AllWell(const agent::v1::DiagnoseResponse& report);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_DOCTOR_H_
