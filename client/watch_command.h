// `datagen auth status --watch`: follows the session across agents (docs/cli.md).
#ifndef DATAGEN_CLIENT_WATCH_COMMAND_H_
#define DATAGEN_CLIENT_WATCH_COMMAND_H_

#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/command_output.h"

namespace datagen::cli {

// Prints a line (JSON: an object) per event until interrupted (exit 130), its reader goes away
// (141) or the agent answers an error of its own (1). See watch_command.cc for how it follows
// the next agent.
int Watch(const Invocation& inv, AgentClient& agent, const Output& io);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_WATCH_COMMAND_H_
