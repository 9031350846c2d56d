// `datagen auth exec -- CMD [ARGS...]`: runs a command with the session in its environment, as
// aws-vault exec and op run do (docs/cli.md "exec").
#ifndef DATAGEN_CLIENT_EXEC_COMMAND_H_
#define DATAGEN_CLIENT_EXEC_COMMAND_H_

#include <string>
#include <vector>

#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/command_output.h"

namespace datagen::cli {

// The child's environment: `parent` (NAME=value entries) with DATAGEN_TOKEN, DATAGEN_API_URL,
// DATAGEN_PROFILE and DATAGEN_ORG set from `token` (DATAGEN_ORG removed when no organization is
// in effect); nothing else replaced, added or removed. Never a refresh token: the agent never
// hands one out.
std::vector<std::string> ExecEnvironment(const std::vector<std::string>& parent,
                                         const agent::v1::GetTokenResponse& token);

// What a shell exits with for a command that could not be run: 127 when it was not found
// (ENOENT, ENOTDIR), 126 otherwise (not executable, not a program).
int CannotRunStatus(int error);

// Gets a token (as `token --min-valid` does: the same errors and exit codes), then runs
// inv.exec_argv[0] (searched on PATH as execvp does) with ExecEnvironment, forwarding SIGINT,
// SIGTERM, SIGHUP and SIGQUIT that were sent to this process (not those a terminal sends to
// the whole group, which the child gets itself), and returns the child's exit status, 128+N
// when signal N ended it, or CannotRunStatus with the reason on stderr.
int RunExec(const Invocation& inv, AgentClient& agent, const Output& io,
            const AgentClient::Scope& scope);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_EXEC_COMMAND_H_
