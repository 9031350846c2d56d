// datagen: the command-line client. argv -> invocation -> agent call -> output. Nothing else.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/common/paths.h"
#include "client/agent_client.h"
#include "client/cli_args.h"
#include "client/commands.h"

int main(int argc, char** argv) {
  using namespace datagen::cli;
  signal(SIGPIPE, SIG_IGN);
  // A call lives for a few milliseconds, and gRPC starts six threads for it: without this,
  // each thread would map and fault in a 64 MiB malloc arena of its own.
  mallopt(M_ARENA_MAX, 1);
  // Debian builds abseil with deadlock detection on, which makes every gRPC mutex record a
  // lock graph. Both together take ~8% off `datagen auth status` (docs/performance.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const Output io;
  ParseResult parsed = ParseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok) return ReportUsageError(parsed.error, io);
  Invocation& inv = parsed.invocation;
  if (inv.command == Command::kHelp || inv.command == Command::kVersion ||
      inv.command == Command::kCompletion) {
    std::fputs(inv.help_text.c_str(), stdout);
    return kExitOk;
  }

  datagen::EnvLookup env = datagen::ProcessEnv();
  // DATAGEN_PROFILE, DATAGEN_ORG and login's DATAGEN_API_URL, where no flag said otherwise.
  if (std::optional<UsageError> error = ResolveEnvironment(env, &inv)) {
    return ReportUsageError(*error, io);
  }
  absl::StatusOr<std::string> socket = datagen::SocketPath(env, getuid());
  if (!socket.ok()) {
    // Like every error, also a JSON object on stdout with --format json (docs/cli.md).
    UsageError error{std::string(socket.status().message()), "", inv.format};
    return ReportSetupError(error, io);
  }
  AgentClient::Options options;
  options.socket_path = *socket;
  // doctor starts the agent as any command does: most of its checks (the server, its clock,
  // pending revocations) run there, and no agent running is the normal state after boot.
  options.autostart = !inv.no_autostart && env("DATAGEN_NO_AUTOSTART").value_or("0") != "1";
  // Stopping or looking at the agent never starts one (restart does, with this shell's settings);
  // nor does asking what it handed out (a new agent has handed out nothing).
  if (inv.command == Command::kAgentStop || inv.command == Command::kAgentStatus ||
      inv.command == Command::kAudit) {
    options.autostart = false;
  }
  options.agent_log_path = datagen::AgentLogFile(*socket);
  AgentClient agent(options);
  int code = RunCommand(inv, agent, io, env);
  // Leave at once: the output is complete, and tearing down gRPC's globals (threads, pools)
  // only adds a slow tail to every call a shell prompt makes.
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(code);
}
