// datagen: the command-line client. argv -> invocation -> agent call -> output. Nothing else.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "agent/paths.h"
#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/commands.h"

int main(int argc, char** argv) {
  using namespace datagen::cli;
  signal(SIGPIPE, SIG_IGN);
  const Output io;
  ParseResult parsed = ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok) return ReportUsageError(parsed.error, io);
  const Invocation& inv = parsed.invocation;
  if (inv.command == Command::kHelp) {
    std::fputs(inv.help_text.c_str(), stdout);
    return kExitOk;
  }

  datagen::EnvLookup env = datagen::ProcessEnv();
  absl::StatusOr<std::string> socket = datagen::SocketPath(env, getuid());
  if (!socket.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(socket.status().message()).c_str());
    return kExitError;
  }
  AgentClient::Options options;
  options.socket_path = *socket;
  options.autostart = !inv.no_autostart && env("DATAGEN_NO_AUTOSTART").value_or("0") != "1";
  options.agent_log_path = datagen::Dirname(*socket) + "/agent.log";
  AgentClient agent(options);
  int code = RunCommand(inv, agent, io, env);
  // Leave at once: the output is complete, and tearing down gRPC's globals (threads, pools)
  // only adds a slow tail to every call a shell prompt makes.
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(code);
}
