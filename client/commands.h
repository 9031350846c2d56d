// One function per `datagen auth` command: call the agent, render the reply, return the exit
// code (docs/cli.md "Exit codes"). No logic beyond that.
#ifndef DATAGEN_CLIENT_COMMANDS_H_
#define DATAGEN_CLIENT_COMMANDS_H_

#include <cstdio>

#include "agent/common/paths.h"
#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/command_output.h"

namespace datagen::cli {

// Runs a parsed invocation against the agent. `env` is read only by login (which browser to
// open). Returns the process exit code.
int RunCommand(const Invocation& invocation, AgentClient& agent, const Output& io,
               const EnvLookup& env);

// An error before any call could be made (e.g. the socket path is unusable): stderr, and a
// JSON error object on stdout with --format json; exit 1.
int ReportSetupError(const UsageError& error, const Output& io);
// Prints a usage error (stderr, and a JSON error on stdout under --format json). Returns 2.
int ReportUsageError(const UsageError& error, const Output& io);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_COMMANDS_H_
