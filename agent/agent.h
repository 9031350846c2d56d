// The agent as one object: its configuration in, every part wired (issuers, the profiles with
// their stores, queues, sessions, login brokers, background work and file watchers, the
// executor, the gRPC service and server, the prompt file), started, and stopped in a
// written-down order. main parses flags and signals and runs it; the
// test harness builds it over fakes.
#ifndef DATAGEN_AGENT_AGENT_H_
#define DATAGEN_AGENT_AGENT_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/common/clock.h"
#include "agent/common/random.h"
#include "agent/http/http_transport.h"
#include "agent/http/stoppable_http_transport.h"
#include "agent/oauth/issuers.h"
#include "agent/profiles/profile_set.h"
#include "agent/rpc/agent_service.h"
#include "agent/rpc/server.h"
#include "agent/runtime/activity.h"
#include "agent/runtime/executor.h"
#include "agent/session/prompt_file.h"
#include "agent/store/credential_store.h"

namespace datagen {

struct AgentConfig {
  std::string socket_path;
  // The default profile's credentials file; other profiles live in folders beside it.
  std::string credentials_path;
  std::string api_url;  // the configured issuer
  std::string client_id = "datagen-cli";
  std::string scope = "openid email orgs offline_access";
  uid_t uid = 0;
  // The staleness bound of the identity cache (see Session).
  absl::Duration identity_max_age = absl::Seconds(60);
  // A listening socket passed by systemd, or -1.
  int inherited_fd = -1;
  // How the agent asks its own process to exit after a Handover (main's signal wait takes it):
  // SIGTERM to the process by default; tests give their own.
  std::function<void()> request_exit;
  // The agent's environment (proxy and CA settings, for Diagnose).
  EnvLookup env = ProcessEnv();
  // Threads for calls that may block on the network.
  int executor_threads = 4;
  // After this long with no call, stream or login, the agent drops gRPC and its threads until
  // the next connection (AgentServer::Sleep); zero: never.
  absl::Duration sleep_after = absl::Seconds(30);
  // Background work (refresh ahead of expiry, revocation retries) on its own thread, woken when
  // due. Off only in tests that run Session::DoDueWork themselves, step by step.
  bool background_work = true;
  // The randomness every jittered backoff and refresh lead draws from (common/random.h); null:
  // seeded from the kernel's entropy, so that no two agents draw alike. Not owned.
  Random* random = nullptr;
};

// Thread-safe. Does not own the transport or the clock, which must outlive it.
class Agent {
 public:
  // Wires every part and starts serving. AlreadyExists when another agent serves the socket
  // (that one answers; nothing here was started). `store` (not owned) replaces the credentials
  // file at config.credentials_path, for tests; the pending revocations stay beside that path.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(AgentConfig config, HttpTransport& transport,
                                                      Clock& clock,
                                                      CredentialStore* store = nullptr);

  // Stops, in this order, so that nothing runs on a part already gone:
  //   0. HTTP exchanges in flight are cancelled (a hanging server delays nothing);
  //   1. the server: no new connections or calls; calls in flight end (cancelled after 2 s),
  //      and it no longer hears of the agent going idle;
  //   2. the login brokers: a login in progress (of any profile) is cancelled, its thread joined;
  //   3. the executor: work already queued runs, then its threads are joined;
  //   4. background work: each profile's file watcher and wake loop are stopped and joined, and
  //      its session no longer calls back into the wake loop;
  //   5. the prompt state file: no longer written, and removed.
  // Idempotent; the destructor calls it. The parts are destroyed after, in reverse order of
  // construction.
  void Stop();
  ~Agent();

  // How long until the agent has been idle (no call, stream or login) for `idle_exit`: zero or
  // less when it has; InfiniteDuration when `idle_exit` is zero or something is in progress.
  absl::Duration UntilIdleFor(absl::Duration idle_exit);

  // For an upgrade: once no login is in progress, tells watchers the agent is restarting and
  // calls config.request_exit. Returns whether that happens now (no login waiting).
  bool Handover();

  // The default profile's parts (tests).
  Session& session() { return profiles_.default_profile().session(); }
  LoginBroker& broker() { return profiles_.default_profile().broker(); }
  RevocationQueue& revocations() { return profiles_.default_profile().revocations(); }
  ProfileSet& profiles() { return profiles_; }
  // Whether gRPC is up (false while the agent sleeps: see AgentConfig::sleep_after).
  bool awake() { return server_ != nullptr && server_->awake(); }
  // Makes the server look again at once whether to sleep, and returns once it has (tests that
  // advance the clock).
  void ReconsiderSleep() {
    if (server_) server_->ReconsiderAndWait();
  }
  Issuers& issuers() { return issuers_; }
  const AgentConfig& config() const { return config_; }

 private:
  Agent(AgentConfig config, HttpTransport& transport, Clock& clock, CredentialStore* store);
  // After a Handover, once no login is in progress: tells watchers the agent is restarting and
  // asks to exit, once. Called by Handover and by the broker when a login ends.
  void LeaveIfHandingOver() ABSL_LOCKS_EXCLUDED(stop_mu_);

  const AgentConfig config_;
  // Construction order is dependency order; destruction runs it backwards.
  // Notified first thing in Stop: every exchange without its own cancel ends at once.
  absl::Notification stopping_;
  std::unique_ptr<Random> own_random_;  // unless config.random was given
  Random& random_;
  StoppableHttpTransport transport_;
  Issuers issuers_;
  ProfileEnv profile_env_;
  ProfileSet profiles_;
  Executor executor_;
  Activity activity_;
  PeerTable peers_;   // filled by the server's accept loop, read by the service
  TokenAudit audit_;  // every token handed out, and to whom
  AgentService service_;
  std::unique_ptr<AgentServer> server_;
  // The prompt state file beside the socket, written on every change of every profile.
  PromptFile prompt_file_;
  uint64_t prompt_listener_ = 0;  // ProfileSet load listener: watches each profile's session
  absl::Mutex prompt_mu_;
  std::vector<std::pair<Session*, uint64_t>> prompt_watches_ ABSL_GUARDED_BY(prompt_mu_);
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
  bool handing_over_ ABSL_GUARDED_BY(stop_mu_) = false;
  bool left_ ABSL_GUARDED_BY(stop_mu_) = false;  // the hand-over's exit was asked for
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_AGENT_H_
