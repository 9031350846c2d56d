#include "client/doctor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/common/diagnostic_check.h"
#include "agent/common/paths.h"
#include "agent/common/text.h"
#include "agent/common/version.h"
#include "client/advice.h"
#include "client/settings.h"

namespace datagen::cli {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// `systemctl --user is-active UNIT`'s answer, or "" when there is no user manager to ask.
std::string UnitState(const char* unit) {
  int out[2];
  if (pipe(out) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDERR_FILENO);
    execlp("systemctl", "systemctl", "--user", "is-active", unit, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string state;
  char buffer[256];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof(buffer))) > 0) state.append(buffer, n);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) return "";
  while (!state.empty() && (state.back() == '\n' || state.back() == ' ')) state.pop_back();
  return state == "active" || state == "inactive" || state == "failed" ? state : "";
}

// The credentials folder and file, by their metadata only (the CLI never reads the file): ours
// alone, or named with the fix. Checked here too so that it is named when the agent is down;
// a running agent tightens a loose mode when it next reads the file.
agent::v1::DiagnosticCheck FilesCheck(const EnvLookup& env, const std::string& profile) {
  absl::StatusOr<std::string> path = CredentialsPath(env);
  if (!path.ok()) {
    return MakeCheck("files", agent::v1::VERDICT_FAIL, std::string(path.status().message()),
                     "set HOME or XDG_CONFIG_HOME");
  }
  *path = ProfileCredentialsFile(*path, profile);
  std::string dir = Dirname(*path);
  struct stat st;
  for (const std::string& at : {dir, *path}) {
    if (lstat(at.c_str(), &st) != 0) continue;
    bool is_dir = at == dir;
    if (st.st_uid != getuid()) {
      return MakeCheck("files", agent::v1::VERDICT_FAIL,
                       absl::StrCat(at, " is owned by uid ", st.st_uid),
                       absl::StrCat("move it away (mv ", at, " ", at, ".bak)"));
    }
    if ((st.st_mode & 077) != 0) {
      return MakeCheck("files", agent::v1::VERDICT_FAIL,
                       absl::StrFormat("%s has mode %04o: others can %s it", at, st.st_mode & 07777,
                                       is_dir ? "look into" : "read"),
                       absl::StrCat(is_dir ? "chmod 700 " : "chmod 600 ", at));
    }
  }
  return MakeCheck("files", agent::v1::VERDICT_OK,
                   absl::StrCat(dir, " and its credentials are yours alone"));
}

agent::v1::DiagnosticCheck SystemdCheck(const EnvLookup& env) {
  std::string home = env("HOME").value_or("");
  std::string config = env("XDG_CONFIG_HOME").value_or(home + "/.config");
  std::string data = env("XDG_DATA_HOME").value_or(home + "/.local/share");
  std::string found;
  for (const std::string& dir :
       {config + "/systemd/user", data + "/systemd/user", std::string("/usr/lib/systemd/user")}) {
    if (IsFile(dir + "/datagen-agent.socket")) {
      found = dir;
      break;
    }
  }
  if (found.empty()) {
    return MakeCheck("systemd", agent::v1::VERDICT_OK,
                     "no user units installed: the CLI starts the agent when needed");
  }
  std::string state = UnitState("datagen-agent.socket");
  if (state.empty()) {
    return MakeCheck("systemd", agent::v1::VERDICT_OK,
                     absl::StrCat("units in ", found, "; no systemd user manager to ask"));
  }
  if (state != "active") {
    return MakeCheck("systemd", agent::v1::VERDICT_WARN,
                     absl::StrCat("units in ", found, ", but datagen-agent.socket is ", state),
                     "systemctl --user enable --now datagen-agent.socket");
  }
  return MakeCheck("systemd", agent::v1::VERDICT_OK,
                   absl::StrCat("datagen-agent.socket is active (units in ", found, ")"));
}

// The socket's folder: safe for a client to talk to (checked before), but the agent itself
// (EnsurePrivateDir) refuses to serve one others can look into: the same verdict as the command
// that would start it.
agent::v1::DiagnosticCheck SocketFolderCheck(const std::string& socket) {
  struct stat folder;
  if (std::string dir = Dirname(socket);
      lstat(dir.c_str(), &folder) == 0 && (folder.st_mode & 077) != 0) {
    return MakeCheck(
        "socket", agent::v1::VERDICT_FAIL,
        absl::StrFormat("%s is open to other users (mode %04o): the agent refuses to serve there",
                        dir, folder.st_mode & 07777),
        absl::StrCat("chmod 700 ", dir));
  }
  return MakeCheck("socket", agent::v1::VERDICT_OK,
                   absl::StrCat(socket, ": the folder is yours alone"));
}

// The agent that answered: its version against this CLI's, and whether it had to be started.
agent::v1::DiagnosticCheck AgentCheck(const agent::v1::DiagnoseResponse& from_agent,
                                      bool was_running) {
  if (from_agent.agent_version() != kVersion) {
    return MakeCheck(
        "agent", agent::v1::VERDICT_WARN,
        absl::StrCat("datagen-agent ", from_agent.agent_version(), " answers; this is datagen ",
                     kVersion),
        "datagen auth agent restart (the installed datagen-agent starts in its place)");
  }
  const std::string started =
      was_running ? "" : " (it was not running: it starts on demand, and started for these checks)";
  return MakeCheck("agent", agent::v1::VERDICT_OK,
                   absl::StrCat("datagen-agent ", kVersion, " answers, configured for ",
                                from_agent.configured_api_url(), started));
}

// A shell whose DATAGEN_API_URL or credentials folder is not the running agent's is shown the
// agent's account: which differ, and the command that applies this shell's (none when the agent
// does not say).
std::optional<agent::v1::DiagnosticCheck> SettingsCheck(AgentClient& agent, const EnvLookup& env) {
  agent::v1::AgentInfo info;
  if (!agent.GetAgentInfo(&info).ok()) return std::nullopt;
  std::string differ = SettingsMismatch(env, {info.configured_api_url(), info.credentials_path()});
  if (differ.empty()) {
    return MakeCheck("settings", agent::v1::VERDICT_OK,
                     "the agent's issuer and credentials file are this shell's");
  }
  return MakeCheck("settings", agent::v1::VERDICT_WARN, differ, "datagen auth agent restart");
}

}  // namespace

agent::v1::DiagnoseResponse RunDoctor(AgentClient& agent, const EnvLookup& env,
                                      const std::string& profile) {
  agent::v1::DiagnoseResponse report;
  const std::string& socket = agent.socket_path();
  if (absl::Status safe = CheckAgentSocket(socket, getuid()); !safe.ok()) {
    *report.add_checks() =
        MakeCheck("socket", agent::v1::VERDICT_FAIL, std::string(safe.message()),
                  "set XDG_RUNTIME_DIR or DATAGEN_AGENT_SOCKET to a folder of yours");
    *report.add_checks() = FilesCheck(env, profile);
    *report.add_checks() = SystemdCheck(env);
    return report;
  }
  *report.add_checks() = SocketFolderCheck(socket);
  *report.add_checks() = FilesCheck(env, profile);
  const bool was_running = agent.answered_at_start();
  if (!was_running && !agent.may_autostart()) {
    // Not a fault of the machine, but the checks that run in the agent cannot run: say so.
    *report.add_checks() = MakeCheck(
        "agent", agent::v1::VERDICT_WARN,
        "not running (it starts on demand); auto-start is off here (--no-autostart or "
        "DATAGEN_NO_AUTOSTART=1), so the server, clock and revocation checks, which run in the "
        "agent, were skipped",
        "run datagen auth doctor without --no-autostart (and with DATAGEN_NO_AUTOSTART unset)");
    *report.add_checks() = SystemdCheck(env);
    return report;
  }
  agent::v1::DiagnoseResponse from_agent;
  AgentClient::Scope scope;
  scope.profile = profile;
  grpc::Status answered = agent.Diagnose(&from_agent, scope);
  if (answered.error_code() == grpc::StatusCode::UNAUTHENTICATED) {  // no such profile
    *report.add_checks() = MakeCheck("profile", agent::v1::VERDICT_FAIL, answered.error_message(),
                                     absl::StrCat("datagen auth login --profile ", profile));
    *report.add_checks() = SystemdCheck(env);
    return report;
  }
  if (!answered.ok()) {
    std::string why = answered.error_code() == grpc::StatusCode::UNIMPLEMENTED
                          ? "the running datagen-agent is too old to answer doctor"
                          : answered.error_message();
    *report.add_checks() = MakeCheck(
        "agent", agent::v1::VERDICT_FAIL,
        was_running ? why : absl::StrCat("not running, and it could not be started: ", why),
        absl::StrCat("see ", agent.agent_log_path(),
                     " for why the agent stopped or did not start"));
    *report.add_checks() = SystemdCheck(env);
    return report;
  }
  *report.add_checks() = AgentCheck(from_agent, was_running);
  if (auto settings = SettingsCheck(agent, env)) *report.add_checks() = *settings;
  for (const auto& check : from_agent.checks()) *report.add_checks() = check;
  *report.add_checks() = SystemdCheck(env);
  report.set_agent_version(from_agent.agent_version());
  report.set_configured_api_url(from_agent.configured_api_url());
  return report;
}

std::string RenderDoctor(const agent::v1::DiagnoseResponse& report) {
  std::string out;
  for (const auto& check : report.checks()) {
    const char* verdict = check.verdict() == agent::v1::VERDICT_OK     ? "ok"
                          : check.verdict() == agent::v1::VERDICT_WARN ? "warn"
                                                                       : "FAIL";
    absl::StrAppend(&out, absl::StrFormat("%-5s %-12s %s\n", verdict, OneLine(check.name()),
                                          OneLine(RedactUrlUserinfo(check.detail()))));
    std::string fix = check.fix();
    if (std::string command = RemedyCommand(check.remedy()); !command.empty()) {
      fix =
          fix.empty() ? absl::StrCat("run: ", command) : absl::StrCat(fix, " (run: ", command, ")");
    }
    if (!fix.empty()) absl::StrAppend(&out, "      fix: ", OneLine(RedactUrlUserinfo(fix)), "\n");
  }
  return out;
}

bool AllWell(const agent::v1::DiagnoseResponse& report) {
  for (const auto& check : report.checks()) {
    if (check.verdict() != agent::v1::VERDICT_OK) return false;
  }
  return true;
}

}  // namespace datagen::cli
