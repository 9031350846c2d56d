// The CLI's typed connection to datagen-agent: connects through its dialer (the socket's folder
// and the peer's uid checked before a byte is sent), starts the agent through its launcher when
// none answers (unless told not to), and makes each call: a stuck agent is named, and an agent
// left from before an upgrade is asked to hand over to the installed one.
//
// Threading: an AgentClient is used from one thread at a time (calls block that thread; none
// starts a thread of its own beyond gRPC's). It owns its connection, never the agent.
#ifndef DATAGEN_CLIENT_AGENT_CLIENT_H_
#define DATAGEN_CLIENT_AGENT_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/common/wire_contract.h"
#include "client/handover.h"
#include "client/launcher.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace datagen::cli {

using ::datagen::kAgentReplyKey;  // agent/wire_contract.h

// error_details() of a status that means no agent could be reached or started (not the agent's
// answer: its message, for people, says why).
inline constexpr char kAgentUnreachable[] = "datagen.client/agent-unreachable";

// Whether `status`, returned by an AgentClient call, means that no agent answered at all.
bool AgentUnreachable(const grpc::Status& status);

// The gRPC channel the client makes over `fd`, a connected, checked, non-blocking socket to the
// agent at `socket_path` (it takes `fd`): a direct channel, no retries, never through a proxy.
std::shared_ptr<grpc::Channel> ChannelOverSocket(const std::string& socket_path, int fd);

// Which profile a call is about, and the organization in effect for it (agent.proto
// "Profiles"). Empty: the default profile, its stored organization.
struct CallScope {
  std::string profile;
  std::string org;
  agent::v1::OrgSource org_source = agent::v1::ORG_SOURCE_UNSPECIFIED;
};

class AgentClient {
 public:
  struct Options {
    std::string socket_path;
    bool autostart = true;
    // Where the agent's stderr goes when this client starts it (appended; created 0600).
    std::string agent_log_path;
    // The dialer seam: a connected socket to the agent at a path, or why not (FailedPrecondition
    // or InvalidArgument: unsafe, never retried or auto-started over). Default: ConnectToAgent
    // with this process's uid (agent/common/fd_io.h).
    Dialer dial;
    // The launcher seam: how an agent is started (not owned; must outlive the client). Default:
    // a ProcessLauncher owned by the client.
    Launcher* launcher = nullptr;
  };
  explicit AgentClient(Options options);

  using Scope = CallScope;

  // Each returns the agent's status, or UNAVAILABLE with a message for people (and nothing
  // else) when the agent could not be reached or started. An error the agent answered carries
  // the name of its datagen.agent.v1.ErrorReason in error_details() (the x-datagen-reason
  // trailer; "" when it gave none): decide on code and reason, never on the message.
  // GetStatus asks for signed out as a reply (GetStatusResponse.signed_out), not an error.
  grpc::Status GetStatus(bool verify, agent::v1::GetStatusResponse* reply, const Scope& scope = {});
  grpc::Status ListOrgs(bool verify, agent::v1::ListOrgsResponse* reply, const Scope& scope = {});
  // Only the scope's profile counts: UseOrg changes the profile's stored organization.
  grpc::Status UseOrg(const std::string& slug, agent::v1::UseOrgResponse* reply,
                      const Scope& scope = {});
  grpc::Status Logout(agent::v1::LogoutResponse* reply, const Scope& scope = {});
  // `min_valid`: how long the token must stay valid (GetTokenRequest.min_valid_seconds; zero:
  // the agent's own margin).
  grpc::Status GetToken(agent::v1::GetTokenResponse* reply, const Scope& scope = {},
                        absl::Duration min_valid = absl::ZeroDuration());
  // The agent's record of the tokens it handed out, newest first (UNIMPLEMENTED from an agent
  // that predates it).
  grpc::Status ListTokenHandouts(agent::v1::ListTokenHandoutsResponse* reply);
  grpc::Status Diagnose(agent::v1::DiagnoseResponse* reply, const Scope& scope = {});
  // Every profile the agent knows (UNIMPLEMENTED from an agent that predates profiles).
  grpc::Status ListProfiles(agent::v1::ListProfilesResponse* reply);
  // Which agent answers: its pid, version and binary.
  grpc::Status GetAgentInfo(agent::v1::AgentInfo* reply);

  // Follows the session, calling `on_event` for each event, until the agent goes away (then
  // UNAVAILABLE) or the process ends.
  // `request`: which profile, or all of them.
  grpc::Status Watch(const std::function<void(const agent::v1::WatchEvent&)>& on_event,
                     const agent::v1::WatchRequest& request = {});

  // Runs a login (auto-starting the agent first if needed), calling `on_event` for each event
  // of the stream as it arrives. Returns the stream's final status (UNAVAILABLE with a message
  // for people when the agent could not be reached). Has no deadline: a login lasts as long as
  // its code is valid.
  // `api_url`: the issuer to sign in at ("": the profile's recorded one, else the agent's
  // configured one); `profile`: the profile to sign in ("": default).
  grpc::Status Login(const std::string& api_url,
                     const std::function<void(const agent::v1::LoginEvent&)>& on_event,
                     const std::string& profile = "");

  // The generated asynchronous interface over this client's own connection (the folder and
  // the peer checked, see Connect; the agent started first when allowed), for callers that
  // keep many calls or streams in flight themselves: tools/bench, and tests that look at a
  // reply's metadata. nullptr when no agent could be reached (agent_unreachable() says why).
  // Calls made through it get none of the handling above (stuck agent, hand-over, retry).
  // Valid until this client is destroyed.
  agent::v1::AuthAgent::StubInterface::async_interface* Async();

  // True when the last call failed because the agent could not be reached or started, rather
  // than with the agent's own answer. For Async(), which returns no status; a call's own
  // status says so itself (AgentUnreachable).
  bool agent_unreachable() const { return agent_unreachable_; }
  // Whether an agent answered when this client was made, before anything could start one.
  bool answered_at_start() const { return answered_at_start_; }
  // Whether this client may start an agent (Options::autostart).
  bool may_autostart() const { return options_.autostart; }
  // From now on, start an agent when none answers (or not). A watch that follows the session
  // across agents starts none after an agent said it was stopping.
  void set_autostart(bool on) { options_.autostart = on; }
  const std::string& socket_path() const { return options_.socket_path; }
  const std::string& agent_log_path() const { return options_.agent_log_path; }

 private:
  template <typename Request, typename Response, typename Method>
  grpc::Status Call(Method method, const Request& request, Response* response);

  template <typename Event, typename Method, typename Request>
  grpc::Status Stream(Method method, const Request& request,
                      const std::function<void(const Event&)>& on_event);

  // Waits on `queue` for the one call started on it. Past kProbeAfter it asks the agent
  // GetAgentInfo; when that gets no answer either, cancels the call and returns true (stuck).
  // Drains and shuts down the queue.
  bool AwaitAnswer(grpc::ClientContext& context, grpc::CompletionQueue& queue);

  // The hand-over policy (client/handover.h) as this client applies it: only when it may start
  // an agent, and once per process.
  bool Outdated(const grpc::ClientContext& context);
  bool HandOver();
  // Starts datagen-agent detached and waits until its socket accepts connections.
  grpc::Status StartAgent();
  // OK when something answers on the socket, after starting the agent if allowed.
  grpc::Status EnsureRunning();
  // The UNAVAILABLE status for an agent that accepts the connection but answers nothing, not
  // even GetAgentInfo (stopped with SIGSTOP, or hung): names its pid and what to do.
  grpc::Status Stuck();
  // An UNAVAILABLE status for not reaching the agent; sets agent_unreachable().
  grpc::Status Unreachable(const std::string& message);
  // Connects afresh (ConnectToAgent: the socket's folder and the peer's uid are checked before
  // a byte is sent). On failure the stub is null, and unsafe_ tells a failed check (never to be
  // retried or auto-started over) from nothing listening.
  grpc::Status Connect();

  Options options_;
  std::unique_ptr<Launcher> own_launcher_;
  Launcher* launcher_ = nullptr;
  bool agent_unreachable_ = false;
  bool unsafe_ = false;
  bool handed_over_ = false;
  bool answered_at_start_ = false;
  std::string last_error_;
  // The generated stub interface: every call goes through it.
  std::unique_ptr<agent::v1::AuthAgent::StubInterface> stub_;
};

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_AGENT_CLIENT_H_
