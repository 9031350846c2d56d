#include "client/agent_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/common/fd_io.h"
#include "agent/common/paths.h"
#include "agent/common/version.h"
#include "client/handover.h"
#include "grpcpp/create_channel_posix.h"

namespace datagen::cli {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(60);
// A call without an answer after this long makes the client ask the agent GetAgentInfo, which
// it answers from memory at once; no answer to that within kProbeDeadline either means the
// agent itself is stuck (stopped, or hung), not waiting on the identity server.
constexpr absl::Duration kProbeAfter = absl::Seconds(3);
constexpr absl::Duration kProbeDeadline = absl::Seconds(3);

// The pid recorded in the agent's lock file ("<socket>.lock"), or 0.
int AgentPid(const std::string& socket_path) {
  std::string text;
  int fd = open(SocketLockFile(socket_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  int pid = 0;
  return n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, n)), &pid)
             ? pid
             : 0;
}

bool FromAgent(const grpc::ClientContext& context) {
  return context.GetServerTrailingMetadata().count(kAgentReplyKey) > 0 ||
         context.GetServerInitialMetadata().count(kAgentReplyKey) > 0;
}

// The agent's error with its reason (the kErrorReasonKey trailer) in error_details().
grpc::Status WithAgentReason(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return status;
  const auto& trailers = context.GetServerTrailingMetadata();
  auto found = trailers.find(kErrorReasonKey);
  if (found == trailers.end()) return status;
  return grpc::Status(status.error_code(), status.error_message(),
                      std::string(found->second.data(), found->second.size()));
}

}  // namespace

std::shared_ptr<grpc::Channel> ChannelOverSocket(const std::string& socket_path, int fd) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // a local socket: never through http_proxy
  return grpc::CreateCustomInsecureChannelFromFd("unix:" + socket_path, fd, args);
}

grpc::Status AgentClient::Unreachable(const std::string& message) {
  agent_unreachable_ = true;
  last_error_ = message;
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, message, kAgentUnreachable);
}

grpc::Status AgentClient::Stuck() {
  agent_unreachable_ = true;
  int pid = AgentPid(options_.socket_path);
  std::string who = pid > 0 ? absl::StrCat("the agent (pid ", pid, ")") : "the agent";
  last_error_ = absl::StrCat(
      who, " at ", options_.socket_path, " is not answering: it may be stopped or hung. ",
      pid > 0 ? absl::StrCat("Restart it with `kill ", pid, "` (`kill -9 ", pid,
                             "` if it stays); the next datagen command starts a new one. ")
              : "",
      "Its log: ", options_.agent_log_path);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, last_error_, kAgentUnreachable);
}

AgentClient::AgentClient(Options options) : options_(std::move(options)) {
  if (!options_.dial) {
    options_.dial = [](const std::string& socket) { return ConnectToAgent(socket, getuid()); };
  }
  if (options_.launcher == nullptr) {
    own_launcher_ = std::make_unique<ProcessLauncher>();
    options_.launcher = own_launcher_.get();
  }
  launcher_ = options_.launcher;
  answered_at_start_ = Connect().ok();  // a failure is reported by the first call
}

agent::v1::AuthAgent::StubInterface::async_interface* AgentClient::Async() {
  if (!stub_ && !EnsureRunning().ok()) return nullptr;
  return stub_ ? stub_->async() : nullptr;
}

grpc::Status AgentClient::Connect() {
  stub_.reset();
  // Our own connect, verified (the folder is ours, the peer runs as us) before a byte is sent,
  // and handed to gRPC as a direct channel: no resolver or subchannel to set up, and the first
  // call goes out without waiting a round trip for the agent's SETTINGS frame.
  absl::StatusOr<int> fd = options_.dial(options_.socket_path);
  if (!fd.ok()) {
    unsafe_ = absl::IsFailedPrecondition(fd.status()) || absl::IsInvalidArgument(fd.status());
    return Unreachable(std::string(fd.status().message()));
  }
  int flags = fcntl(*fd, F_GETFL);
  if (flags < 0 || fcntl(*fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    close(*fd);
    return Unreachable("cannot set up the connection to the agent");
  }
  stub_ = agent::v1::AuthAgent::NewStub(ChannelOverSocket(options_.socket_path, *fd));
  agent_unreachable_ = false;
  unsafe_ = false;
  return grpc::Status::OK;
}

bool AgentClient::AwaitAnswer(grpc::ClientContext& context, grpc::CompletionQueue& queue) {
  bool stuck = false;
  void* tag = nullptr;
  bool ok = false;
  if (queue.AsyncNext(&tag, &ok, absl::ToChronoTime(absl::Now() + kProbeAfter)) ==
      grpc::CompletionQueue::TIMEOUT) {
    grpc::ClientContext probe;
    probe.set_deadline(absl::ToChronoTime(absl::Now() + kProbeDeadline));
    agent::v1::AgentInfo info;
    grpc::Status alive = stub_->GetAgentInfo(&probe, agent::v1::GetAgentInfoRequest(), &info);
    if (alive.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      stuck = true;
      context.TryCancel();
    }
    queue.Next(&tag, &ok);  // the call's end: its answer, or cancelled
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return stuck;
}

template <typename Request, typename Response, typename Method>
grpc::Status AgentClient::Call(Method method, const Request& request, Response* response) {
  agent_unreachable_ = false;
  for (int attempt = 0;; ++attempt) {
    if (!stub_) {
      if (grpc::Status running = EnsureRunning(); !running.ok()) return running;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
    // The call runs on a completion queue this thread waits on, so that it can look at the
    // agent after kProbeAfter without a second thread (a thread per call would cost every
    // prompt).
    grpc::Status status;
    bool stuck = false;
    {
      grpc::CompletionQueue queue;
      auto rpc = ((*stub_).*method)(&context, request, &queue);
      rpc->StartCall();
      rpc->Finish(response, &status, this);
      stuck = AwaitAnswer(context, queue);
    }
    if (stuck) return Stuck();
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return grpc::Status(
          grpc::StatusCode::DEADLINE_EXCEEDED,
          absl::StrCat("the agent did not answer within ", absl::FormatDuration(kCallDeadline),
                       " (it is alive: it was waiting for the identity server)"));
    }
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || FromAgent(context)) {
      // An agent left running from before an upgrade hands over, and the call goes to the
      // installed one (started by the next attempt).
      if (attempt == 0 && Outdated(context) && HandOver()) {
        stub_.reset();
        continue;
      }
      return WithAgentReason(status, context);
    }
    // Not the agent's answer: nothing (or nothing of ours) listens on the socket.
    if (attempt > 0) {
      return Unreachable(absl::StrCat("the agent at ", options_.socket_path, " did not answer (",
                                      status.error_message(), ")"));
    }
    // The agent went away under this call: start one unless something listens now (another
    // client may have just started it), then retry once on a fresh connection.
    stub_.reset();
  }
}

bool AgentClient::Outdated(const grpc::ClientContext& context) {
  // Only a client that can start an agent hands over, once per process.
  if (!options_.autostart || handed_over_) return false;
  return OutdatedAgent(context, launcher_->AgentBinary(), *stub_);
}

bool AgentClient::HandOver() {
  handed_over_ = true;  // once per process, whatever happens
  if (!AskToHandOver(*stub_, options_.dial, options_.socket_path)) return false;
  stub_.reset();
  return true;
}

grpc::Status AgentClient::StartAgent() {
  if (absl::Status dir =
          EnsurePrivateDir(Dirname(options_.socket_path), getuid(), LooseFolder::kRefuse);
      !dir.ok()) {
    return Unreachable(std::string(dir.message()));
  }
  absl::Status started = launcher_->Start(options_.socket_path, options_.agent_log_path,
                                          [this] { return Connect().ok() || unsafe_; });
  if (unsafe_) return Unreachable(last_error_);
  if (!started.ok()) return Unreachable(std::string(started.message()));
  return grpc::Status::OK;
}

namespace {

// Sets a request's profile, org and org_source from `scope`.
template <typename Request>
Request Scoped(Request request, const AgentClient::Scope& scope) {
  request.set_profile(scope.profile);
  request.set_org(scope.org);
  request.set_org_source(scope.org_source);
  return request;
}

}  // namespace

grpc::Status AgentClient::GetStatus(bool verify, agent::v1::GetStatusResponse* reply,
                                    const Scope& scope) {
  agent::v1::GetStatusRequest request = Scoped(agent::v1::GetStatusRequest(), scope);
  request.set_verify(verify);
  request.set_answer_signed_out(true);  // the CLI shows pending revocations and a waiting login
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncGetStatus, request, reply);
}

grpc::Status AgentClient::ListOrgs(bool verify, agent::v1::ListOrgsResponse* reply,
                                   const Scope& scope) {
  agent::v1::ListOrgsRequest request = Scoped(agent::v1::ListOrgsRequest(), scope);
  request.set_verify(verify);
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncListOrgs, request, reply);
}

grpc::Status AgentClient::UseOrg(const std::string& slug, agent::v1::UseOrgResponse* reply,
                                 const Scope& scope) {
  agent::v1::UseOrgRequest request;
  request.set_slug(slug);
  request.set_profile(scope.profile);
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncUseOrg, request, reply);
}

grpc::Status AgentClient::Logout(agent::v1::LogoutResponse* reply, const Scope& scope) {
  agent::v1::LogoutRequest request;
  request.set_profile(scope.profile);
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncLogout, request, reply);
}

grpc::Status AgentClient::GetToken(agent::v1::GetTokenResponse* reply, const Scope& scope,
                                   absl::Duration min_valid) {
  agent::v1::GetTokenRequest request = Scoped(agent::v1::GetTokenRequest(), scope);
  request.set_min_valid_seconds(absl::ToInt64Seconds(min_valid));
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncGetToken, request, reply);
}

grpc::Status AgentClient::ListTokenHandouts(agent::v1::ListTokenHandoutsResponse* reply) {
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncListTokenHandouts,
              agent::v1::ListTokenHandoutsRequest(), reply);
}

grpc::Status AgentClient::Diagnose(agent::v1::DiagnoseResponse* reply, const Scope& scope) {
  agent::v1::DiagnoseRequest request;
  request.set_profile(scope.profile);
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncDiagnose, request, reply);
}

grpc::Status AgentClient::ListProfiles(agent::v1::ListProfilesResponse* reply) {
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncListProfiles,
              agent::v1::ListProfilesRequest(), reply);
}

grpc::Status AgentClient::GetAgentInfo(agent::v1::AgentInfo* reply) {
  return Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncGetAgentInfo,
              agent::v1::GetAgentInfoRequest(), reply);
}

grpc::Status AgentClient::EnsureRunning() {
  if (grpc::Status connected = Connect(); connected.ok() || unsafe_) return connected;
  if (!options_.autostart) {
    return Unreachable(absl::StrCat("no datagen-agent is running on ", options_.socket_path,
                                    " and auto-start is off"));
  }
  return StartAgent();
}

template <typename Event, typename Method, typename Request>
grpc::Status AgentClient::Stream(Method method, const Request& request,
                                 const std::function<void(const Event&)>& on_event) {
  agent_unreachable_ = false;
  if (options_.autostart) {
    // A stream's first reply comes too late to hand over (a login would already have started
    // on the old agent), so a client that can start the installed agent first asks for the
    // running one's identity: an agent left from before an upgrade hands over here (Call).
    agent::v1::AgentInfo info;
    grpc::Status probed = Call(&agent::v1::AuthAgent::StubInterface::PrepareAsyncGetAgentInfo,
                               agent::v1::GetAgentInfoRequest(), &info);
    if (!probed.ok()) return probed;
  } else if (!stub_) {
    if (grpc::Status running = EnsureRunning(); !running.ok()) return running;
  }
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderInterface<Event>> reader =
      ((*stub_).*method)(&context, request);
  Event event;
  while (reader->Read(&event)) on_event(event);
  grpc::Status status = reader->Finish();
  if (!status.ok()) stub_.reset();  // the next call connects afresh (the agent may have gone)
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && !FromAgent(context)) {
    return Unreachable(absl::StrCat(
        "the agent at ", options_.socket_path,
        " went away before this finished (it was stopped or restarted); nothing was stored by "
        "it halfway: run the command again"));
  }
  return WithAgentReason(status, context);
}

grpc::Status AgentClient::Login(const std::string& api_url,
                                const std::function<void(const agent::v1::LoginEvent&)>& on_event,
                                const std::string& profile) {
  agent::v1::LoginRequest request;
  request.set_api_url(api_url);
  request.set_profile(profile);
  return Stream<agent::v1::LoginEvent>(&agent::v1::AuthAgent::StubInterface::Login, request,
                                       on_event);
}

grpc::Status AgentClient::Watch(const std::function<void(const agent::v1::WatchEvent&)>& on_event,
                                const agent::v1::WatchRequest& request) {
  return Stream<agent::v1::WatchEvent>(&agent::v1::AuthAgent::StubInterface::Watch, request,
                                       on_event);
}

bool AgentUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         status.error_details() == kAgentUnreachable;
}

}  // namespace datagen::cli
