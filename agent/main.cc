// datagen-agent: the per-user daemon behind `datagen auth`. Flags and wiring only.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent_service.h"
#include "agent/clock.h"
#include "agent/credential_store.h"
#include "agent/discovery.h"
#include "agent/executor.h"
#include "agent/file_watcher.h"
#include "agent/helper_http_transport.h"
#include "agent/identity_client.h"
#include "agent/issuers.h"
#include "agent/log.h"
#include "agent/login_broker.h"
#include "agent/paths.h"
#include "agent/revocation_queue.h"
#include "agent/server.h"
#include "agent/session.h"
#include "agent/wake_loop.h"

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
ABSL_FLAG(bool, verbose, false, "log debug lines too");
ABSL_FLAG(absl::Duration, identity_max_age, absl::Seconds(60),
          "status and org --list answer from memory when the server confirmed the identity "
          "within this long (the staleness bound; a revoked token is noticed within it); "
          "--verify on the CLI always asks");
ABSL_FLAG(absl::Duration, idle_exit, absl::ZeroDuration(),
          "exit after this long with no call, stream or login in progress (0: never); meant "
          "for socket activation, where systemd starts the agent again on the next connection");

namespace {

constexpr char kDefaultApiUrl[] = "https://api.datagen.example";
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

int Fail(const absl::Status& status) {
  datagen::LogError("%s", status.message());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  BecomeUndumpable();
  absl::SetProgramUsageMessage("the per-user sign-in agent behind `datagen auth`");
  std::vector<std::string> args = DashedFlagsAccepted(argc, argv);
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  std::vector<char*> rest =
      absl::ParseCommandLine(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  if (rest.size() > 1) {
    std::fprintf(stderr, "datagen-agent: unexpected argument %s (see --help)\n", rest[1]);
    return 2;
  }
  // Debian's abseil has mutex deadlock detection on; it costs every lock and finds nothing in
  // a release build that tests have not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (absl::GetFlag(FLAGS_verbose)) datagen::SetLogLevel(datagen::LogLevel::kDebug);

  // Signals are taken synchronously by sigwait below; block them before any thread starts so
  // that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  datagen::EnvLookup env = datagen::ProcessEnv();
  const uid_t uid = getuid();
  std::string socket_path = absl::GetFlag(FLAGS_socket);
  if (socket_path.empty()) {
    absl::StatusOr<std::string> resolved = datagen::SocketPath(env, uid);
    if (!resolved.ok()) return Fail(resolved.status());
    socket_path = *resolved;
  }
  std::string credentials_path = absl::GetFlag(FLAGS_credentials);
  if (credentials_path.empty()) {
    absl::StatusOr<std::string> resolved = datagen::CredentialsPath(env);
    if (!resolved.ok()) return Fail(resolved.status());
    credentials_path = *resolved;
  }
  std::string api_url = absl::GetFlag(FLAGS_api_url);
  if (api_url.empty()) api_url = env("DATAGEN_API_URL").value_or(kDefaultApiUrl);

  // HTTP happens in short-lived datagen-agent-http processes: this one maps no curl/OpenSSL.
  datagen::HelperHttpTransport transport(datagen::HelperHttpTransport::HelperBesideSelf());
  datagen::Issuers issuers(transport, absl::GetFlag(FLAGS_client_id), api_url);
  datagen::Clock& clock = *datagen::RealClock::Get();
  datagen::FileCredentialStore store(credentials_path, uid, clock);
  datagen::RevocationQueue revocations(
      datagen::Dirname(credentials_path) + "/pending-revocations.json", uid, clock);
  datagen::Session session(store, issuers, revocations, clock,
                           absl::GetFlag(FLAGS_identity_max_age));
  datagen::LoginBroker broker(issuers, clock, session, kScope);
  datagen::Executor executor(4);
  datagen::AgentService service(session, broker, executor);

  absl::StatusOr<std::unique_ptr<datagen::AgentServer>> server = datagen::AgentServer::Start(
      socket_path, uid, {&service}, datagen::AgentServer::TakeSocketFromSystemd());
  if (absl::IsAlreadyExists(server.status())) {
    // Two clients auto-started agents at once, or one is already running: the live one serves.
    datagen::LogInfo("%s; exiting", server.status().message());
    return 0;
  }
  if (!server.ok()) return Fail(server.status());
  datagen::LogInfo("credentials file %s; identity server %s", credentials_path, api_url);

  // Background work (refresh ahead of expiry, pending revocations) wakes only when due.
  datagen::WakeLoop maintenance([&session] { return session.DoDueWork(); });
  session.SetScheduleListener([&maintenance] { maintenance.Poke(); });
  // Edits of the credentials file behind the agent's back reach watchers at once. The folder
  // is created when missing; a loose one is left for the store to repair and report.
  std::string credentials_dir = datagen::Dirname(credentials_path);
  struct stat dir_stat;
  absl::Status dir_ready =
      lstat(credentials_dir.c_str(), &dir_stat) == 0
          ? absl::OkStatus()
          : datagen::EnsurePrivateDir(credentials_dir, uid, datagen::LooseFolder::kRefuse);
  std::unique_ptr<datagen::FileWatcher> file_watcher;
  if (dir_ready.ok()) {
    auto started =
        datagen::FileWatcher::Start(credentials_path, [&session] { session.CheckFile(); });
    if (started.ok()) {
      file_watcher = *std::move(started);
    } else {
      datagen::LogWarning("%s; file changes are noticed at the next call",
                          started.status().message());
    }
  } else {
    datagen::LogWarning("%s", dir_ready.message());
  }

  const absl::Duration idle_exit = absl::GetFlag(FLAGS_idle_exit);
  int signal_number = 0;
  while (true) {
    if (idle_exit <= absl::ZeroDuration()) {
      sigwait(&stop_signals, &signal_number);
      break;
    }
    // Wakes only at the moment the agent would have been idle long enough.
    // Monotonic: setting the wall clock neither hastens nor delays it (sigtimedwait's relative
    // timeout runs on CLOCK_MONOTONIC too).
    absl::Time idle_since = service.activity().IdleSince();
    absl::Time now = datagen::MonotonicNow();
    absl::Time deadline =
        idle_since == absl::InfiniteFuture() ? now + idle_exit : idle_since + idle_exit;
    if (now >= deadline && !broker.active()) {
      datagen::LogInfo("idle for %s; exiting", absl::FormatDuration(idle_exit));
      break;
    }
    timespec wait = absl::ToTimespec(std::max(deadline - now, absl::Milliseconds(10)));
    signal_number = sigtimedwait(&stop_signals, nullptr, &wait);
    if (signal_number > 0) break;
  }
  if (signal_number > 0) datagen::LogInfo("received %s; shutting down", strsignal(signal_number));
  file_watcher.reset();
  (*server)->Shutdown();
  return 0;
}
