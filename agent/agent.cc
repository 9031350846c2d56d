#include "agent/agent.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/common/fd_io.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/version.h"
#include "agent/session/watch_hub.h"

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

ProfileEnv ProfileEnvOf(const AgentConfig& config, HttpTransport& transport, Issuers& issuers,
                        Clock& clock, Random& random, std::function<void()> on_login_inactive) {
  ProfileEnv env;
  env.transport = &transport;
  env.issuers = &issuers;
  env.clock = &clock;
  env.random = &random;
  env.default_credentials = config.credentials_path;
  env.uid = config.uid;
  env.instance = WatchHub::NewInstance();
  env.identity_max_age = config.identity_max_age;
  env.scope = config.scope;
  env.configured_api_url = config.api_url;
  env.env = config.env;
  env.background_work = config.background_work;
  env.on_login_inactive = std::move(on_login_inactive);
  return env;
}

}  // namespace

Agent::Agent(AgentConfig config, HttpTransport& transport, Clock& clock, CredentialStore* store)
    : config_(std::move(config)),
      own_random_(config_.random != nullptr ? nullptr : SeededRandom::SeededFromEntropy()),
      random_(config_.random != nullptr ? *config_.random : *own_random_),
      transport_(transport, stopping_),
      issuers_(transport_, config_.client_id, config_.api_url),
      profile_env_(ProfileEnvOf(config_, transport_, issuers_, clock, random_,
                                [this] { LeaveIfHandingOver(); })),
      profiles_(profile_env_, store),
      executor_(config_.executor_threads),
      activity_(clock),
      service_(
          profiles_, executor_, activity_, SelfInfo(config_), [this] { return Handover(); }, peers_,
          audit_),
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
                         agent->config_.inherited_fd, std::move(sleep), &agent->peers_);
  if (!server.ok()) return server.status();
  agent->server_ = *std::move(server);
  // A call or stream that ends may make the agent idle: the server looks again then.
  agent->activity_.SetIdleListener([self] { self->server_->Reconsider(); });
  LogInfo("credentials file %s; identity server %s", agent->config_.credentials_path,
          agent->config_.api_url);
  // Each profile's background work (refresh ahead of expiry, pending revocations) wakes only
  // when due; its file watcher notices edits behind the agent's back.
  agent->profiles_.Start();
  // Written now (each session as loaded) and on every change after, for every profile.
  agent->prompt_listener_ = agent->profiles_.AddLoadListener([self](Profile& profile) {
    uint64_t handle = profile.session().AddWatcher(&self->prompt_file_);
    absl::MutexLock lock(&self->prompt_mu_);
    self->prompt_watches_.emplace_back(&profile.session(), handle);
  });
  return agent;
}

bool Agent::Handover() {
  {
    absl::MutexLock lock(&stop_mu_);
    if (stopped_) return !profiles_.AnyLoginActive();
    if (!handing_over_) {
      handing_over_ = true;
      LogInfo("%s", profiles_.AnyLoginActive()
                        ? "handing over to the installed datagen-agent once the "
                          "login in progress ends"
                        : "handing over to the installed datagen-agent: exiting");
    }
  }
  // A login waiting for approval keeps this agent: it leaves when the login ends (the broker's
  // inactive listener, set in Start, calls LeaveIfHandingOver then).
  if (profiles_.AnyLoginActive()) return false;
  LeaveIfHandingOver();
  return true;
}

void Agent::LeaveIfHandingOver() {
  {
    absl::MutexLock lock(&stop_mu_);
    if (!handing_over_ || left_ || stopped_ || profiles_.AnyLoginActive()) return;
    left_ = true;
  }
  for (Profile* profile : profiles_.Loaded()) profile->session().PublishRestarting();
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
  if (!handing_over) {
    for (Profile* profile : profiles_.Loaded()) profile->session().PublishStopping();
  }
  stopping_.Notify();
  if (server_) server_->Shutdown();
  activity_.SetIdleListener(nullptr);
  profiles_.StopLogins();
  executor_.Shutdown();
  profiles_.StopBackground();
  if (prompt_listener_ != 0) {
    profiles_.RemoveLoadListener(prompt_listener_);
    std::vector<std::pair<Session*, uint64_t>> watches;
    {
      absl::MutexLock lock(&prompt_mu_);
      watches.swap(prompt_watches_);
    }
    for (auto& [session, handle] : watches) session->RemoveWatcher(handle);
    prompt_file_.Remove();
  }
}

Agent::~Agent() { Stop(); }

absl::Duration Agent::UntilIdleFor(absl::Duration idle_exit) {
  if (profiles_.AnyLoginActive()) return absl::InfiniteDuration();
  return activity_.UntilIdleFor(idle_exit);
}

}  // namespace datagen
