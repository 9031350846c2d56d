// datagen-agent: the per-user daemon behind `datagen auth`. Flags and wiring only.
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent.h"
#include "agent/common/clock.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/version.h"
#include "agent/http/helper_http_transport.h"
#include "agent/oauth/discovery.h"
#include "agent/rpc/server.h"

ABSL_FLAG(std::string, socket, "",
          "Unix socket to serve (default: $DATAGEN_AGENT_SOCKET, else "
          "$XDG_RUNTIME_DIR/datagen/agent.sock, else /tmp/datagen-<uid>/agent.sock)");
ABSL_FLAG(std::string, api_url, "",
          "identity server (issuer) URL (default: $DATAGEN_API_URL, else "
          "https://api.datagen.example)");
ABSL_FLAG(std::string, client_id, "datagen-cli", "OAuth client id");
ABSL_FLAG(std::string, credentials, "",
          "credentials file (default: $XDG_CONFIG_HOME/datagen/credentials.json, else "
          "~/.config/datagen/credentials.json)");
ABSL_FLAG(std::string, http_helper, "",
          "the HTTP helper (datagen-agent-http), as an absolute path (default: beside this "
          "binary, else in ../libexec/datagen; never looked up on PATH or in the working folder)");
ABSL_FLAG(bool, verbose, false, "log debug lines too");
ABSL_FLAG(absl::Duration, identity_max_age, absl::Seconds(60),
          "status and org --list answer as confirmed when the server confirmed the identity "
          "within this long (the staleness bound); past it they answer marked unverified and "
          "the agent asks the server in the background; --verify on the CLI always asks");
ABSL_FLAG(absl::Duration, sleep_after, absl::Seconds(30),
          "after this long with no call, stream or login, stop gRPC and its threads until the "
          "next connection, so that an idle agent makes no wake-ups (0: never)");
ABSL_FLAG(absl::Duration, idle_exit, absl::ZeroDuration(),
          "exit after this long with no call, stream or login in progress (0: never); meant "
          "for socket activation, where systemd starts the agent again on the next connection");

namespace {

constexpr char kScope[] = "openid email orgs offline_access";

// The agent holds bearer tokens: like ssh-agent, no process of the same uid may ptrace it or
// read /proc/PID/mem or environ, and it never leaves a core file.
void BecomeUndumpable() {
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    datagen::LogWarning("could not make the agent non-dumpable: %s", std::strerror(errno));
  }
}

// Flags are documented with dashes (--api-url), as people type them; abseil names them with
// underscores. Both spellings work: "--a-b[=v]" becomes "--a_b[=v]" up to a bare "--".
std::vector<std::string> DashedFlagsAccepted(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    size_t end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + 2, arg.begin() + end, '-', '_');
  }
  return args;
}

// --help: this file's flags as the README and datagen-agent(1) write them (dashes), each with
// its help and default, wrapped for a terminal. abseil's own listing shows underscores and the
// source file's name.
std::string AgentHelp() {
  std::string help = absl::StrCat(
      "usage: datagen-agent [flags]\n\n"
      "The per-user sign-in agent behind `datagen auth`: it holds the session and serves the CLI,\n"
      "shell prompts and editor plugins on a Unix socket. Any datagen auth command starts it on\n"
      "demand; you rarely run it yourself (see man datagen-agent).\n\nflags (dashes or "
      "underscores alike):\n");
  std::map<std::string, absl::CommandLineFlag*> mine;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), "agent/main.cc")) mine[std::string(name)] = flag;
  }
  for (const auto& [name, flag] : mine) {
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    std::string text = flag->Help();
    std::string initial = flag->DefaultValue();
    if (!initial.empty() && initial != "false") absl::StrAppend(&text, " [default: ", initial, "]");
    absl::StrAppend(&help, "  --", dashed, "\n");
    std::string line = "      ";
    for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
      if (line.size() + word.size() > 96) {
        absl::StrAppend(&help, line, "\n");
        line = "      ";
      }
      absl::StrAppend(&line, line.size() > 6 ? " " : "", word);
    }
    absl::StrAppend(&help, line, "\n");
  }
  absl::StrAppend(&help,
                  "  --version\n      print the version and exit\n"
                  "  --help\n      print this and exit\n");
  return help;
}

int Fail(const absl::Status& status) {
  datagen::LogError("%s", status.message());
  return 1;
}

// `path` made absolute against the working folder, which the agent leaves for "/" at start.
std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char here[PATH_MAX];
  if (getcwd(here, sizeof(here)) == nullptr) return path;
  return absl::StrCat(here, "/", path);
}

// The configuration from flags and the environment.
absl::StatusOr<datagen::AgentConfig> ConfigFromFlags() {
  datagen::EnvLookup env = datagen::ProcessEnv();
  datagen::AgentConfig config;
  config.uid = getuid();
  config.inherited_fd = datagen::AgentServer::TakeSocketFromSystemd();
  config.socket_path = absl::GetFlag(FLAGS_socket);
  if (config.inherited_fd >= 0) {
    // Socket activation: where systemd's socket is bound is where the agent serves, whatever
    // the (possibly bare) environment of the unit computes; the lock goes beside it.
    absl::StatusOr<std::string> bound = datagen::AgentServer::BoundPath(config.inherited_fd);
    if (!bound.ok()) return bound.status();
    config.socket_path = *bound;
  }
  if (config.socket_path.empty()) {
    absl::StatusOr<std::string> resolved = datagen::SocketPath(env, config.uid);
    if (!resolved.ok()) return resolved.status();
    config.socket_path = *resolved;
  }
  config.socket_path = Absolute(config.socket_path);
  config.credentials_path = absl::GetFlag(FLAGS_credentials);
  if (config.credentials_path.empty()) {
    absl::StatusOr<std::string> resolved = datagen::CredentialsPath(env);
    if (!resolved.ok()) return resolved.status();
    config.credentials_path = *resolved;
  }
  config.credentials_path = Absolute(config.credentials_path);
  config.api_url = absl::GetFlag(FLAGS_api_url);
  if (config.api_url.empty())
    config.api_url = env("DATAGEN_API_URL").value_or(datagen::kDefaultIssuer);
  config.client_id = absl::GetFlag(FLAGS_client_id);
  config.scope = kScope;
  config.identity_max_age = absl::GetFlag(FLAGS_identity_max_age);
  config.sleep_after = absl::GetFlag(FLAGS_sleep_after);
  return config;
}

// Waits for a stop signal, or until the agent has been idle for `idle_exit` (when not zero).
void WaitForTheEnd(datagen::Agent& agent, const sigset_t& stop_signals, absl::Duration idle_exit) {
  int signal_number = 0;
  if (idle_exit <= absl::ZeroDuration()) {
    sigwait(&stop_signals, &signal_number);
  } else {
    while (signal_number <= 0) {
      // Wakes only when the agent would have been idle long enough; while something is in
      // progress, looks again after idle_exit. sigtimedwait's timeout runs on CLOCK_MONOTONIC.
      absl::Duration left = agent.UntilIdleFor(idle_exit);
      if (left <= absl::ZeroDuration()) {
        datagen::LogInfo("idle for %s; exiting", absl::FormatDuration(idle_exit));
        return;
      }
      timespec wait = absl::ToTimespec(std::clamp(left, absl::Milliseconds(10), idle_exit));
      signal_number = sigtimedwait(&stop_signals, nullptr, &wait);
    }
  }
  datagen::LogInfo("received %s; shutting down", strsignal(signal_number));
}

// Parses the command line into the flags. Returns the exit code when the process should end
// here (--help, --version, a bad flag), nullopt to go on.
std::optional<int> ParseFlags(int argc, char** argv) {
  absl::SetProgramUsageMessage("the per-user sign-in agent behind `datagen auth`");
  absl::FlagsUsageConfig usage;
  usage.version_string = [] { return absl::StrCat("datagen-agent ", datagen::kVersion, "\n"); };
  // --helpshort and the like list this file's flags (abseil looks for files named after the
  // program); --help is AgentHelp.
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "agent/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  std::vector<std::string> args = DashedFlagsAccepted(argc, argv);
  for (size_t i = 1; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--help" || args[i] == "-h" || args[i] == "--helpfull") {
      std::fputs(AgentHelp().c_str(), stdout);
      return 0;
    }
  }
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  if (rest.size() > 1) {
    std::fprintf(stderr, "datagen-agent: unexpected argument %s (see --help)\n", rest[1]);
    return 2;
  }
  return std::nullopt;
}

// The signals the agent takes: the stop signals are blocked before any thread starts (every
// thread inherits the mask) and taken synchronously (WaitForTheEnd); the rest are ignored.
sigset_t TakeSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int stop : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, stop);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // The credentials store asks whether a writer has the file open by taking a read lease for an
  // instant (credential_store.h); a lease broken in that instant sends SIGIO, which must not end
  // the agent.
  signal(SIGIO, SIG_IGN);
  return stop_signals;
}

}  // namespace

int main(int argc, char** argv) {
  BecomeUndumpable();
  if (std::optional<int> exit_code = ParseFlags(argc, argv)) return *exit_code;
  // Debian's abseil has mutex deadlock detection on; it costs every lock and finds nothing in
  // a release build that tests have not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (absl::GetFlag(FLAGS_verbose)) datagen::SetLogLevel(datagen::LogLevel::kDebug);
  const sigset_t stop_signals = TakeSignals();

  absl::StatusOr<datagen::AgentConfig> config = ConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  // HTTP happens in short-lived datagen-agent-http processes: this one maps no curl/OpenSSL.
  // Only ever an absolute path found from the agent's own location (or given by flag).
  absl::StatusOr<std::string> helper =
      datagen::HelperHttpTransport::Locate(absl::GetFlag(FLAGS_http_helper));
  if (!helper.ok()) return Fail(helper.status());
  // The auto-starting CLI ran wherever the user was: nothing may resolve against that folder
  // (and the agent must not keep it busy, e.g. a mount the user wants to unmount).
  if (chdir("/") != 0) return Fail(absl::InternalError("cannot change to the folder /"));
  datagen::HelperHttpTransport transport(*std::move(helper));
  absl::StatusOr<std::unique_ptr<datagen::Agent>> agent =
      datagen::Agent::Start(*std::move(config), transport, *datagen::RealClock::Get());
  if (absl::IsAlreadyExists(agent.status())) {
    // Two clients auto-started agents at once, or one is already running: the live one serves.
    datagen::LogInfo("%s; exiting", agent.status().message());
    return 0;
  }
  if (!agent.ok()) return Fail(agent.status());
  WaitForTheEnd(**agent, stop_signals, absl::GetFlag(FLAGS_idle_exit));
  (*agent)->Stop();
  return 0;
}
