#include "agent/rpc/agent_service.h"

#include <algorithm>
#include <deque>
#include <string>

#include "absl/synchronization/mutex.h"
#include "agent/common/log.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"
#include "agent/runtime/bounded_queue.h"
#include "agent/session/status_reply.h"

namespace datagen {

constexpr size_t kMaxIssuerUrl = 2048;

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

AgentService::AgentService(Session& session, LoginBroker& broker, Executor& executor,
                           Activity& activity, Doctor& doctor, agent::v1::AgentInfo info,
                           std::function<bool()> handover)
    : session_(session),
      broker_(broker),
      executor_(executor),
      activity_(activity),
      doctor_(doctor),
      info_(std::move(info)),
      handover_(std::move(handover)) {}

namespace {

// Adds the reason `status` carries (reason.h), if any, to the reply's trailers.
void AddReason(grpc::CallbackServerContext* context, const absl::Status& status) {
  if (agent::v1::ErrorReason reason = ReasonOf(status);
      reason != agent::v1::ERROR_REASON_UNSPECIFIED) {
    context->AddTrailingMetadata(std::string(kErrorReasonKey), ReasonName(reason));
  }
}

// `status` as this reply ends: its reason in the trailers, then the canonical code.
grpc::Status Reply(grpc::CallbackServerContext* context, const absl::Status& status) {
  AddReason(context, status);
  return ToGrpcStatus(status);
}

// Marks a reply as this agent's (kAgentReplyKey), with its version and binary identity.
void MarkReply(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info) {
  context->AddTrailingMetadata(std::string(kAgentReplyKey), "1");
  context->AddTrailingMetadata(std::string(kAgentVersionKey), info.version());
  context->AddTrailingMetadata(std::string(kAgentBinaryKey), info.binary_id());
}

// A server stream that writes queued events one at a time (one write in flight, as gRPC's
// callback API requires), finishes exactly once, and deletes itself when gRPC is done with
// it. A subclass feeds it events (Enqueue, Close) from any thread and detaches from its source
// in Detach, which runs when the caller goes away and when the stream is done.
template <typename Event>
class QueuedStream : public grpc::ServerWriteReactor<Event> {
 public:
  QueuedStream(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
               Activity& activity, size_t max_queued)
      : context_(context), activity_(activity), queue_(max_queued) {
    MarkReply(context, info);
    activity_.Begin();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {  // the caller is gone
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away"));
      return;
    }
    PumpLocked();
  }
  void OnCancel() override {
    Detach();  // before taking mu_: sources call Enqueue with their own lock held
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away"));
  }
  void OnDone() override {
    Detach();
    activity_.End();
    delete this;
  }

 protected:
  // Must stop the source's calls into this stream before returning. Idempotent.
  virtual void Detach() = 0;

  // Queues an event; beyond max_queued the oldest queued one is dropped.
  void Enqueue(Event event) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (finished_ || closing_) return;
    queue_.Push(std::move(event));
    PumpLocked();
  }
  // Ends the stream with `status` (its reason in the trailers) once the queued events are
  // written.
  void Close(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    final_status_ = status;
    PumpLocked();
  }

 private:
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      writing_ = true;
      in_flight_ = queue_.Pop();  // the queue may be trimmed during the write
      this->StartWrite(&in_flight_);
    } else if (closing_) {
      FinishLocked(Reply(context_, final_status_));  // no write in flight: trailers are ours
    }
  }
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    this->Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  Activity& activity_;
  absl::Mutex mu_;
  BoundedQueue<Event> queue_ ABSL_GUARDED_BY(mu_);
  Event in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// One caller of Login: attached to the shared login, it streams the device code and then the
// result.
class LoginReactor final : public QueuedStream<agent::v1::LoginEvent>,
                           public LoginBroker::Listener {
 public:
  LoginReactor(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
               LoginBroker& broker, Activity& activity, const std::string& issuer)
      : QueuedStream(context, info, activity, /*max_queued=*/4), broker_(broker) {
    if (issuer.size() > kMaxIssuerUrl ||
        !std::all_of(issuer.begin(), issuer.end(),
                     [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
      OnLoginDone(absl::InvalidArgumentError(
          "api_url must be an issuer URL of at most 2048 printable characters"));
      return;
    }
    handle_ = broker_.Attach(this, issuer);
  }

  // LoginBroker::Listener (called with the broker's lock held; never blocks).
  void OnDeviceCode(const agent::v1::DeviceCode& code) override {
    agent::v1::LoginEvent event;
    *event.mutable_device_code() = code;
    Enqueue(std::move(event));
  }
  void OnLoginDone(const absl::StatusOr<agent::v1::LoginResult>& result) override {
    if (result.ok()) {
      agent::v1::LoginEvent event;
      *event.mutable_result() = *result;
      Enqueue(std::move(event));
    }
    Close(result.status());
  }

 private:
  void Detach() override { broker_.Detach(handle_); }

  LoginBroker& broker_;
  uint64_t handle_ = 0;
};

// One watcher: the session's events until the caller cancels (or the server shuts down). A
// watcher that reads too slowly loses its oldest queued events (it sees the jump in generation
// numbers), so it never costs unbounded memory.
class WatchReactor final : public QueuedStream<agent::v1::WatchEvent>, public Session::Watcher {
 public:
  WatchReactor(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
               Session& session, Activity& activity)
      : QueuedStream(context, info, activity, /*max_queued=*/64), session_(session) {
    handle_ = session_.AddWatcher(this);
  }

  // Session::Watcher (called with the session's lock held; never blocks).
  void OnSessionEvent(const agent::v1::WatchEvent& event) override { Enqueue(event); }

 private:
  void Detach() override { session_.RemoveWatcher(handle_); }

  Session& session_;
  uint64_t handle_ = 0;
};

}  // namespace

grpc::ServerWriteReactor<agent::v1::LoginEvent>* AgentService::Login(
    grpc::CallbackServerContext* context, const agent::v1::LoginRequest* request) {
  return new LoginReactor(context, info_, broker_, activity_, request->api_url());
}

grpc::ServerWriteReactor<agent::v1::WatchEvent>* AgentService::Watch(
    grpc::CallbackServerContext* context, const agent::v1::WatchRequest*) {
  return new WatchReactor(context, info_, session_, activity_);
}

AgentService::Unary* AgentService::GetToken(Context* context, const v1::GetTokenRequest* request,
                                            v1::GetTokenResponse* response) {
  return Offload(context, *request, response, [this] { return session_.GetToken(); });
}

grpc::ServerUnaryReactor* AgentService::RefuseOversized(grpc::CallbackServerContext* context,
                                                        const google::protobuf::Message& request) {
  if (request.ByteSizeLong() <= kMaxRequestBytes) return nullptr;
  MarkReply(context, info_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               absl::StrCat("the request is ", request.ByteSizeLong(),
                                            " bytes; the agent takes at most ", kMaxRequestBytes)));
  return reactor;
}

template <typename Response, typename Call>
AgentService::Unary* AgentService::Offload(Context* context,
                                           const google::protobuf::Message& request,
                                           Response* response, Call call) {
  if (auto* refused = RefuseOversized(context, request)) return refused;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Lets clients tell this agent's own errors (e.g. UNAVAILABLE: the identity server is down)
  // from failing to reach the agent at all.
  MarkReply(context, info_);
  activity_.Begin();
  executor_.Run([this, context, reactor, response, call = std::move(call)] {
    absl::StatusOr<Response> result = call();
    if (result.ok()) *response = *std::move(result);
    // Done before the reply leaves: a caller that has its answer never sees the call still
    // counted as in progress (idle exit).
    activity_.End();
    reactor->Finish(Reply(context, result.status()));
  });
  return reactor;
}

absl::StatusOr<v1::GetStatusResponse> AgentService::SignedOutReply(
    absl::StatusOr<v1::GetStatusResponse> status) {
  status = AnswerSignedOut(std::move(status));
  if (status.ok() && status->signed_out()) {
    status->set_configured_api_url(info_.configured_api_url());
    if (std::optional<v1::DeviceCode> code = session_.PendingLogin()) {
      *status->mutable_pending_login() = *std::move(code);
    }
  }
  return status;
}

AgentService::Unary* AgentService::GetStatus(Context* context, const v1::GetStatusRequest* request,
                                             v1::GetStatusResponse* response) {
  if (auto* refused = RefuseOversized(context, *request)) return refused;
  bool verify = request->verify();
  if (!verify) {
    // The hot path (prompts, status bars): answered on this thread, no hop, no I/O.
    if (auto ready = session_.TryStatusFromMemory()) {
      if (request->answer_signed_out()) ready = SignedOutReply(*std::move(ready));
      MarkReply(context, info_);
      activity_.Touch();
      if (ready->ok()) {
        *response = **std::move(ready);
        response->set_agent_version(info_.version());
        response->set_credentials_path(info_.credentials_path());
      }
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(Reply(context, ready->status()));
      return reactor;
    }
  }
  const bool answer_signed_out = request->answer_signed_out();
  return Offload(context, *request, response, [this, verify, answer_signed_out] {
    absl::StatusOr<agent::v1::GetStatusResponse> status = session_.Status(verify);
    if (answer_signed_out) status = SignedOutReply(std::move(status));
    if (status.ok()) {
      status->set_agent_version(info_.version());
      status->set_credentials_path(info_.credentials_path());
    }
    return status;
  });
}

AgentService::Unary* AgentService::ListOrgs(Context* context, const v1::ListOrgsRequest* request,
                                            v1::ListOrgsResponse* response) {
  bool verify = request->verify();
  return Offload(context, *request, response, [this, verify] { return session_.ListOrgs(verify); });
}

AgentService::Unary* AgentService::UseOrg(Context* context, const v1::UseOrgRequest* request,
                                          v1::UseOrgResponse* response) {
  std::string slug = request->slug();
  return Offload(context, *request, response, [this, slug] { return session_.UseOrg(slug); });
}

AgentService::Unary* AgentService::Logout(Context* context, const v1::LogoutRequest* request,
                                          v1::LogoutResponse* response) {
  return Offload(context, *request, response, [this] { return session_.Logout(); });
}

AgentService::Unary* AgentService::Diagnose(Context* context, const v1::DiagnoseRequest* request,
                                            v1::DiagnoseResponse* response) {
  return Offload(context, *request, response,
                 [this] { return absl::StatusOr<v1::DiagnoseResponse>(doctor_.Run()); });
}

AgentService::Unary* AgentService::GetAgentInfo(Context* context,
                                                const v1::GetAgentInfoRequest* request,
                                                v1::AgentInfo* response) {
  if (auto* refused = RefuseOversized(context, *request)) return refused;
  MarkReply(context, info_);
  activity_.Touch();
  *response = info_;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

AgentService::Unary* AgentService::Handover(Context* context, const v1::HandoverRequest* request,
                                            v1::HandoverResponse* response) {
  if (auto* refused = RefuseOversized(context, *request)) return refused;
  MarkReply(context, info_);
  LogInfo("datagen %s asked to hand over to the installed datagen-agent",
          PrintableText(request->client_version(), 40));
  response->set_exiting_now(handover_());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace datagen
