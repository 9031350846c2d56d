#include "agent/agent.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/common/fd_io.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/version.h"

namespace datagen {
namespace {

// What GetAgentInfo answers: this process's version and binary, as they are at start.
agent::v1::AgentInfo SelfInfo(const AgentConfig& config) {
  agent::v1::AgentInfo info;
  info.set_credentials_path(config.credentials_path);
  info.set_configured_api_url(config.api_url);
  info.set_version(kVersion);
  info.set_binary_path(SelfPath());
  info.set_binary_id(FileIdentity(info.binary_path()));
  info.set_pid(getpid());
  return info;
}

}  // namespace

Agent::Agent(AgentConfig config, HttpTransport& transport, Clock& clock, CredentialStore* store)
    : config_(std::move(config)),
      own_random_(config_.random != nullptr ? nullptr : SeededRandom::SeededFromEntropy()),
      random_(config_.random != nullptr ? *config_.random : *own_random_),
      transport_(transport, stopping_),
      issuers_(transport_, config_.client_id, config_.api_url),
      own_store_(store != nullptr ? nullptr
                                  : std::make_unique<FileCredentialStore>(config_.credentials_path,
                                                                          config_.uid, clock)),
      store_(store != nullptr ? *store : *own_store_),
      revocations_(PendingRevocationsFile(config_.credentials_path), config_.uid, clock, random_),
      session_(store_, issuers_, revocations_, clock, random_, config_.identity_max_age),
      broker_(issuers_, clock, random_, session_, config_.scope),
      executor_(config_.executor_threads),
      activity_(clock),
      doctor_(transport_, clock, config_.api_url, config_.credentials_path, config_.uid,
              revocations_, config_.env),
      service_(session_, broker_, executor_, activity_, doctor_, SelfInfo(config_),
               [this] { return Handover(); }),
      prompt_file_(PromptStateFile(config_.socket_path), getpid()) {}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(AgentConfig config, HttpTransport& transport,
                                                    Clock& clock, CredentialStore* store) {
  std::unique_ptr<Agent> agent(new Agent(std::move(config), transport, clock, store));
  Agent* self = agent.get();
  AgentServer::Sleep sleep;
  sleep.after = agent->config_.sleep_after;
  sleep.clock = &clock;
  sleep.until_idle_for = [self](absl::Duration idle) { return self->UntilIdleFor(idle); };
  absl::StatusOr<std::unique_ptr<AgentServer>> server =
      AgentServer::Start(agent->config_.socket_path, agent->config_.uid, {&agent->service_},
                         agent->config_.inherited_fd, std::move(sleep));
  if (!server.ok()) return server.status();
  agent->server_ = *std::move(server);
  // A call or stream that ends may make the agent idle: the server looks again then.
  agent->activity_.SetIdleListener([self] { self->server_->Reconsider(); });
  LogInfo("credentials file %s; identity server %s", agent->config_.credentials_path,
          agent->config_.api_url);
  // Background work (refresh ahead of expiry, pending revocations) wakes only when due.
  if (agent->config_.background_work) {
    agent->maintenance_ =
        std::make_unique<WakeLoop>(clock, [self] { return self->session_.DoDueWork(); });
    agent->session_.SetScheduleListener([self] { self->maintenance_->Poke(); });
  }
  agent->broker_.SetInactiveListener([self] { self->LeaveIfHandingOver(); });
  agent->WatchCredentialsFile();
  // Written now (the session as loaded) and on every change after.
  agent->prompt_watch_ = agent->session_.AddWatcher(&agent->prompt_file_);
  return agent;
}

void Agent::WatchCredentialsFile() {
  // Edits of the credentials file behind the agent's back reach watchers at once. The folder
  // is created when missing; a loose one is left for the store to repair and report.
  std::string dir = Dirname(config_.credentials_path);
  struct stat st;
  absl::Status ready = lstat(dir.c_str(), &st) == 0
                           ? absl::OkStatus()
                           : EnsurePrivateDir(dir, config_.uid, LooseFolder::kRefuse);
  if (!ready.ok()) {
    LogWarning("%s", ready.message());
    return;
  }
  auto started = FileWatcher::Start(config_.credentials_path, [this] { session_.CheckFile(); });
  if (!started.ok()) {
    LogWarning("%s; file changes are noticed at the next call", started.status().message());
    return;
  }
  file_watcher_ = *std::move(started);
}

bool Agent::Handover() {
  {
    absl::MutexLock lock(&stop_mu_);
    if (stopped_) return !broker_.active();
    if (!handing_over_) {
      handing_over_ = true;
      LogInfo("%s", broker_.active() ? "handing over to the installed datagen-agent once the "
                                       "login in progress ends"
                                     : "handing over to the installed datagen-agent: exiting");
    }
  }
  // A login waiting for approval keeps this agent: it leaves when the login ends (the broker's
  // inactive listener, set in Start, calls LeaveIfHandingOver then).
  if (broker_.active()) return false;
  LeaveIfHandingOver();
  return true;
}

void Agent::LeaveIfHandingOver() {
  {
    absl::MutexLock lock(&stop_mu_);
    if (!handing_over_ || left_ || stopped_ || broker_.active()) return;
    left_ = true;
  }
  session_.PublishRestarting();
  if (config_.request_exit) {
    config_.request_exit();
  } else {
    kill(getpid(), SIGTERM);  // main's signal wait takes it, and stops in order
  }
}

void Agent::Stop() {
  bool handing_over = false;
  {
    absl::MutexLock lock(&stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    handing_over = handing_over_;
  }
  // Watchers learn why their stream ends (a hand-over said so already).
  if (!handing_over) session_.PublishStopping();
  stopping_.Notify();
  if (server_) server_->Shutdown();
  activity_.SetIdleListener(nullptr);
  broker_.Shutdown();
  executor_.Shutdown();
  file_watcher_.reset();
  if (maintenance_) maintenance_->Stop();
  session_.SetScheduleListener(nullptr);
  if (prompt_watch_ != 0) {
    session_.RemoveWatcher(prompt_watch_);
    prompt_file_.Remove();
  }
}

Agent::~Agent() { Stop(); }

absl::Duration Agent::UntilIdleFor(absl::Duration idle_exit) {
  if (broker_.active()) return absl::InfiniteDuration();
  return activity_.UntilIdleFor(idle_exit);
}

}  // namespace datagen
