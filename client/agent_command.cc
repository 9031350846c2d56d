#include "client/agent_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/common/json.h"
#include "agent/common/text.h"

namespace datagen::cli {
namespace {

// `agent start|stop|restart|status`: the agent's life, as ssh-agent -k and gpgconf --kill and
// --launch give it. start starts one with this shell's settings unless one runs; stop sends the
// verified agent SIGTERM (it finishes what it must, removes its socket and exits) and waits for it
// to go; restart then starts one with this shell's settings (auto-start); status says which agent
// answers, or that none runs (it starts on demand).
std::string AgentText(const agent::v1::AgentInfo& info) {
  std::string text =
      absl::StrCat("agent: running\npid: ", info.pid(), "\nversion: ", OneLine(info.version()),
                   "\nbinary: ", OneLine(info.binary_path()), "\n");
  if (!info.configured_api_url().empty()) {
    absl::StrAppend(&text, "identity server: ", OneLine(info.configured_api_url()), "\n");
  }
  if (!info.credentials_path().empty()) {
    absl::StrAppend(&text, "credentials: ", OneLine(info.credentials_path()), "\n");
  }
  return text;
}

std::string AgentJson(const agent::v1::AgentInfo* info, absl::string_view did) {
  std::string out = absl::StrCat("{\"running\":", info != nullptr ? "true" : "false");
  if (!did.empty()) absl::StrAppend(&out, ",\"done\":\"", did, "\"");
  if (info != nullptr) absl::StrAppend(&out, ",\"agent\":", ToJson(*info, /*all_fields=*/true));
  return out + "}\n";
}

// Whether `pid` has exited but is not reaped yet (a zombie): an agent started by a long-running
// client (a watch) stays one until that client reaps it, and it has finished everything.
bool HasExited(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(file, stat)) return false;
  size_t paren = stat.rfind(')');  // "pid (comm) S ...": comm may hold spaces and parentheses
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// Sends the agent SIGTERM and waits for it to go (up to 20 s: it finishes what it must first).
grpc::Status StopAgent(pid_t pid) {
  if (pid <= 1 || kill(pid, SIGTERM) != 0) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat("cannot signal the agent (pid ", pid, ")"));
  }
  for (int i = 0; i < 200; ++i) {
    (void)waitpid(pid, nullptr, WNOHANG);  // an agent this process started: reaped
    if (kill(pid, 0) != 0 || HasExited(pid)) return grpc::Status::OK;
    usleep(100 * 1000);
  }
  return grpc::Status(
      grpc::StatusCode::INTERNAL,
      absl::StrCat("the agent (pid ", pid, ") did not stop within 20 s; kill ", pid));
}

}  // namespace

int AgentLife(const Invocation& inv, AgentClient& agent, const Output& io) {
  agent::v1::AgentInfo info;
  // Only an agent that was running is stopped (restart does not start one to stop it).
  grpc::Status found = agent.answered_at_start()
                           ? agent.GetAgentInfo(&info)
                           : grpc::Status(grpc::StatusCode::UNAVAILABLE, "not running");
  const bool running = found.ok();
  if (!running && agent.answered_at_start() && !AgentUnreachable(found)) {
    return ReportError(found, "agent", inv, io);
  }
  const bool json = inv.format == Format::kJson;
  if (inv.command == Command::kAgentStart && !running) {
    grpc::Status started = agent.GetAgentInfo(&info);  // auto-starts it
    if (!started.ok()) return ReportError(started, "agent start", inv, io);
    Print(io.out,
          json ? AgentJson(&info, "started") : absl::StrCat("agent: started\n", AgentText(info)),
          json ? Format::kJson : Format::kText);
    return kExitOk;
  }
  if (inv.command == Command::kAgentStatus || inv.command == Command::kAgentStart) {
    if (json) {
      Print(io.out, AgentJson(running ? &info : nullptr, ""), Format::kJson);
    } else {
      Print(io.out, running ? AgentText(info) : "agent: not running (it starts on demand)\n");
    }
    return kExitOk;
  }
  std::string stopped = "agent: not running\n";
  if (running) {
    grpc::Status ended = StopAgent(static_cast<pid_t>(info.pid()));
    if (!ended.ok()) return ReportError(ended, "agent", inv, io);
    stopped = absl::StrCat("agent: stopped (pid ", info.pid(), ")\n");
  }
  if (inv.command == Command::kAgentStop) {
    Print(io.out, json ? AgentJson(nullptr, running ? "stopped" : "") : stopped,
          json ? Format::kJson : Format::kText);
    return kExitOk;
  }
  // restart: a new agent, started by this client with this shell's environment.
  agent::v1::AgentInfo fresh;
  grpc::Status started = agent.GetAgentInfo(&fresh);
  if (!started.ok()) return ReportError(started, "agent restart", inv, io);
  if (json) {
    Print(io.out, AgentJson(&fresh, "restarted"), Format::kJson);
  } else {
    Print(io.out, absl::StrCat(stopped, AgentText(fresh)));
  }
  return kExitOk;
}

}  // namespace datagen::cli
