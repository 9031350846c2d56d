// `datagen auth agent start|stop|restart|status`: the agent's life (docs/cli.md).
#ifndef DATAGEN_CLIENT_AGENT_COMMAND_H_
#define DATAGEN_CLIENT_AGENT_COMMAND_H_

#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/command_output.h"

namespace datagen::cli {

// Runs inv.command (kAgentStart, kAgentStop, kAgentRestart or kAgentStatus). `agent` must not
// have started an agent by itself (main gives stop and status a client that does not).
int AgentLife(const Invocation& inv, AgentClient& agent, const Output& io);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_AGENT_COMMAND_H_
