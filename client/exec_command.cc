#include "client/exec_command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/common/secret_memory.h"
#include "agent/common/text.h"
#include "client/render.h"

extern char** environ;

namespace datagen::cli {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// The child's pid once spawned, and a signal that arrived before it was known (on another
// thread: gRPC's threads do not block the forwarded signals). Lock-free atomics are safe in a
// handler; the exchange on g_pending makes exactly one of the handler and RunExec forward it.
std::atomic<pid_t> g_child{0};
std::atomic<int> g_pending{0};
static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

// A signal sent to this process by someone (kill, systemd, a supervisor) goes on to the child;
// one a terminal sent to the whole foreground group (si_code SI_KERNEL) reached it already.
void Forward(int signo, siginfo_t* info, void*) {
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  g_pending.store(signo);
  const pid_t child = g_child.load();
  if (child > 0 && g_pending.exchange(0) != 0) kill(child, signo);
}

void SetOrAdd(std::vector<std::string>* env, const std::string& name, const std::string& value) {
  const std::string prefix = name + "=";
  for (std::string& entry : *env) {
    if (absl::StartsWith(entry, prefix)) {
      entry = prefix + value;
      return;
    }
  }
  env->push_back(prefix + value);
}

void Remove(std::vector<std::string>* env, const std::string& name) {
  const std::string prefix = name + "=";
  for (auto it = env->begin(); it != env->end();) {
    it = absl::StartsWith(*it, prefix) ? env->erase(it) : it + 1;
  }
}

std::vector<std::string> ThisEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The child's status as a shell reports it.
int ExitStatusOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

}  // namespace

std::vector<std::string> ExecEnvironment(const std::vector<std::string>& parent,
                                         const agent::v1::GetTokenResponse& token) {
  std::vector<std::string> env = parent;
  SetOrAdd(&env, "DATAGEN_TOKEN", token.token());
  SetOrAdd(&env, "DATAGEN_API_URL", token.api_url());
  SetOrAdd(&env, "DATAGEN_PROFILE", token.profile().empty() ? kDefaultProfile : token.profile());
  if (token.active_org_slug().empty()) {
    Remove(&env, "DATAGEN_ORG");
  } else {
    SetOrAdd(&env, "DATAGEN_ORG", token.active_org_slug());
  }
  return env;
}

int CannotRunStatus(int error) { return error == ENOENT || error == ENOTDIR ? 127 : 126; }

int RunExec(const Invocation& inv, AgentClient& agent, const Output& io,
            const AgentClient::Scope& scope) {
  agent::v1::GetTokenResponse token;
  grpc::Status status = agent.GetToken(&token, scope, inv.min_valid);
  if (!status.ok()) return ReportError(status, "exec", inv, io);
  if (token.min_valid_unmet()) Print(io.err, MinValidWarning(token, inv.min_valid));
  std::vector<std::string> env = ExecEnvironment(ThisEnvironment(), token);
  WipeString(token.mutable_token());
  std::vector<std::string> argv = inv.exec_argv;
  std::vector<char*> argv_ptrs = Pointers(argv);
  std::vector<char*> env_ptrs = Pointers(env);

  // The forwarded signals are blocked around the spawn (so none is lost before the child's pid
  // is known) and reset to their defaults, unblocked, in the child.
  sigset_t forwarded, before;
  sigemptyset(&forwarded);
  for (int signo : kForwarded) sigaddset(&forwarded, signo);
  sigprocmask(SIG_BLOCK, &forwarded, &before);
  struct sigaction forward {};
  forward.sa_sigaction = Forward;
  forward.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&forward.sa_mask);
  for (int signo : kForwarded) sigaction(signo, &forward, nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &before);
  posix_spawnattr_setsigdefault(&attr, &forwarded);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t child = 0;
  int spawned =
      posix_spawnp(&child, argv[0].c_str(), nullptr, &attr, argv_ptrs.data(), env_ptrs.data());
  posix_spawnattr_destroy(&attr);
  for (std::string& entry : env) {
    if (absl::StartsWith(entry, "DATAGEN_TOKEN=")) WipeString(&entry);
  }
  if (spawned != 0) {
    sigprocmask(SIG_SETMASK, &before, nullptr);
    Print(io.err, absl::StrCat("datagen: ", OneLine(argv[0]), ": ",
                               CannotRunStatus(spawned) == 127 ? "command not found"
                                                               : std::strerror(spawned),
                               "\n"));
    return CannotRunStatus(spawned);
  }
  g_child.store(child);
  // A signal another thread took before the pid was known goes on now.
  if (const int pending = g_pending.exchange(0); pending != 0) kill(child, pending);
  sigprocmask(SIG_SETMASK, &before, nullptr);
  int child_status = 0;
  while (waitpid(child, &child_status, 0) < 0) {
    if (errno != EINTR) {
      Print(io.err, absl::StrCat("datagen: waiting for ", OneLine(argv[0]), ": ",
                                 std::strerror(errno), "\n"));
      return kExitError;
    }
  }
  g_child.store(0);
  return ExitStatusOf(child_status);
}

}  // namespace datagen::cli
