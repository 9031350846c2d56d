#include "agent/rpc/agent_service.h"

#include <string>

#include "agent/common/log.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"
#include "agent/rpc/call_reply.h"
#include "agent/rpc/stream_reactors.h"
#include "agent/session/status_reply.h"

namespace datagen {

AgentService::AgentService(ProfileSet& profiles, Executor& executor, Activity& activity,
                           agent::v1::AgentInfo info, std::function<bool()> handover,
                           const PeerTable& peers, TokenAudit& audit)
    : profiles_(profiles),
      executor_(executor),
      activity_(activity),
      info_(std::move(info)),
      handover_(std::move(handover)),
      peers_(peers),
      audit_(audit) {}

namespace {
// The profile a call names, loaded (without creating it). NotFound: it does not exist, which
// for every call but Diagnose means "not signed in".
absl::StatusOr<Profile*> Existing(ProfileSet& profiles, const std::string& name) {
  return profiles.Load(name, /*create=*/false);
}

// A call about a profile that does not exist: signed out, as the default profile is without
// its file.
absl::Status AbsentAsSignedOut(const absl::Status& status) {
  return absl::IsNotFound(status) ? NotSignedInError() : status;
}

OrgChoice OrgOf(const std::string& slug, agent::v1::OrgSource source) { return {slug, source}; }

}  // namespace

grpc::ServerWriteReactor<agent::v1::LoginEvent>* AgentService::Login(
    grpc::CallbackServerContext* context, const agent::v1::LoginRequest* request) {
  return NewLoginStream(context, info_, profiles_.Load(request->profile(), /*create=*/true),
                        activity_, request->api_url());
}

grpc::ServerWriteReactor<agent::v1::WatchEvent>* AgentService::Watch(
    grpc::CallbackServerContext* context, const agent::v1::WatchRequest* request) {
  return NewWatchStream(context, info_, profiles_, *request, activity_);
}

AgentService::Unary* AgentService::GetToken(Context* context, const v1::GetTokenRequest* request,
                                            v1::GetTokenResponse* response) {
  OrgChoice org = OrgOf(request->org(), request->org_source());
  std::string name = request->profile();
  const int64_t min_valid = request->min_valid_seconds();
  std::optional<ucred> peer = peers_.Find(context->peer());
  return Offload(
      context, *request, response,
      [this, name, org, min_valid, peer]() -> absl::StatusOr<v1::GetTokenResponse> {
        if (min_valid < 0 || min_valid > kMaxMinValidSeconds) {
          return absl::InvalidArgumentError(absl::StrCat("min_valid_seconds must be between 0 and ",
                                                         kMaxMinValidSeconds, " (a week)"));
        }
        absl::StatusOr<Profile*> profile = Existing(profiles_, name);
        if (!profile.ok()) return AbsentAsSignedOut(profile.status());
        absl::StatusOr<v1::GetTokenResponse> reply =
            (*profile)->session().GetToken(org, absl::Seconds(min_valid));
        if (reply.ok()) audit_.Record(reply->profile(), peer, absl::Now(), "GetToken");
        return reply;
      });
}

AgentService::Unary* AgentService::ListTokenHandouts(Context* context,
                                                     const v1::ListTokenHandoutsRequest* request,
                                                     v1::ListTokenHandoutsResponse* response) {
  return AnswerNow(context, *request, [&] { *response = audit_.List(); });
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

template <typename Fill>
AgentService::Unary* AgentService::AnswerNow(Context* context,
                                             const google::protobuf::Message& request, Fill fill) {
  if (auto* refused = RefuseOversized(context, request)) return refused;
  MarkReply(context, info_);
  activity_.Touch();
  fill();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

absl::StatusOr<v1::GetStatusResponse> AgentService::SignedOutReply(
    Profile* profile, absl::StatusOr<v1::GetStatusResponse> status) {
  status = AnswerSignedOut(std::move(status));
  if (status.ok() && status->signed_out()) {
    status->set_configured_api_url(info_.configured_api_url());
    if (profile == nullptr) return status;
    status->set_profile(profile->name());
    if (std::optional<v1::DeviceCode> code = profile->session().PendingLogin()) {
      *status->mutable_pending_login() = *std::move(code);
    }
  }
  return status;
}

absl::StatusOr<v1::GetStatusResponse> AgentService::FullStatus(
    const v1::GetStatusRequest& request) {
  absl::StatusOr<Profile*> profile = Existing(profiles_, request.profile());
  absl::StatusOr<agent::v1::GetStatusResponse> status =
      profile.ok() ? (*profile)->session().Status(request.verify(),
                                                  OrgOf(request.org(), request.org_source()))
                   : AbsentAsSignedOut(profile.status());
  if (request.answer_signed_out()) {
    status = SignedOutReply(profile.ok() ? *profile : nullptr, std::move(status));
    if (status.ok() && !profile.ok()) status->set_profile(ProfileOrDefault(request.profile()));
  }
  if (status.ok()) {
    status->set_agent_version(info_.version());
    status->set_credentials_path(
        ProfileCredentialsFile(info_.credentials_path(), ProfileOrDefault(request.profile())));
  }
  return status;
}

AgentService::Unary* AgentService::GetStatus(Context* context, const v1::GetStatusRequest* request,
                                             v1::GetStatusResponse* response) {
  if (auto* refused = RefuseOversized(context, *request)) return refused;
  Profile* profile = profiles_.Find(request->profile());  // never the disk here
  if (!request->verify() && profile != nullptr) {
    // The hot path (prompts, status bars): answered on this thread, no hop, no I/O.
    if (auto ready =
            profile->session().TryStatusFromMemory(OrgOf(request->org(), request->org_source()))) {
      if (request->answer_signed_out()) ready = SignedOutReply(profile, *std::move(ready));
      MarkReply(context, info_);
      activity_.Touch();
      if (ready->ok()) {
        *response = **std::move(ready);
        response->set_agent_version(info_.version());
        response->set_credentials_path(profile->credentials_path());
      }
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(Reply(context, ready->status()));
      return reactor;
    }
  }
  v1::GetStatusRequest copy = *request;
  return Offload(context, *request, response, [this, copy] { return FullStatus(copy); });
}

AgentService::Unary* AgentService::ListOrgs(Context* context, const v1::ListOrgsRequest* request,
                                            v1::ListOrgsResponse* response) {
  bool verify = request->verify();
  OrgChoice org = OrgOf(request->org(), request->org_source());
  std::string name = request->profile();
  return Offload(context, *request, response,
                 [this, verify, org, name]() -> absl::StatusOr<v1::ListOrgsResponse> {
                   absl::StatusOr<Profile*> profile = Existing(profiles_, name);
                   if (!profile.ok()) return AbsentAsSignedOut(profile.status());
                   return (*profile)->session().ListOrgs(verify, org);
                 });
}

AgentService::Unary* AgentService::UseOrg(Context* context, const v1::UseOrgRequest* request,
                                          v1::UseOrgResponse* response) {
  std::string slug = request->slug();
  std::string name = request->profile();
  return Offload(context, *request, response,
                 [this, slug, name]() -> absl::StatusOr<v1::UseOrgResponse> {
                   absl::StatusOr<Profile*> profile = Existing(profiles_, name);
                   if (!profile.ok()) return AbsentAsSignedOut(profile.status());
                   absl::StatusOr<v1::UseOrgResponse> reply = (*profile)->session().UseOrg(slug);
                   if (reply.ok()) reply->set_profile((*profile)->name());
                   return reply;
                 });
}

AgentService::Unary* AgentService::Logout(Context* context, const v1::LogoutRequest* request,
                                          v1::LogoutResponse* response) {
  std::string name = request->profile();
  return Offload(context, *request, response, [this, name]() -> absl::StatusOr<v1::LogoutResponse> {
    absl::StatusOr<Profile*> profile = Existing(profiles_, name);
    if (!profile.ok() && !absl::IsNotFound(profile.status())) return profile.status();
    absl::StatusOr<v1::LogoutResponse> reply;
    if (profile.ok()) {
      reply = (*profile)->session().Logout();
    } else {  // a profile that never existed: nothing to end
      reply = v1::LogoutResponse();
      reply->set_status("no_credential");
      reply->set_outcome(v1::LOGOUT_OUTCOME_NO_CREDENTIAL);
    }
    if (reply.ok()) reply->set_profile(ProfileOrDefault(name));
    return reply;
  });
}

AgentService::Unary* AgentService::Diagnose(Context* context, const v1::DiagnoseRequest* request,
                                            v1::DiagnoseResponse* response) {
  std::string name = request->profile();
  return Offload(context, *request, response,
                 [this, name]() -> absl::StatusOr<v1::DiagnoseResponse> {
                   absl::StatusOr<Profile*> profile = Existing(profiles_, name);
                   if (absl::IsNotFound(profile.status())) {
                     return WithReason(absl::UnauthenticatedError(profile.status().message()),
                                       v1::ERROR_REASON_NOT_SIGNED_IN);
                   }
                   if (!profile.ok()) return profile.status();
                   return (*profile)->Diagnose();
                 });
}

AgentService::Unary* AgentService::ListProfiles(Context* context,
                                                const v1::ListProfilesRequest* request,
                                                v1::ListProfilesResponse* response) {
  return Offload(context, *request, response, [this]() -> absl::StatusOr<v1::ListProfilesResponse> {
    v1::ListProfilesResponse reply;
    for (Profile* profile : profiles_.LoadAll()) {
      v1::ProfileSummary summary = profile->session().Summary();
      summary.set_credentials_path(profile->credentials_path());
      *reply.add_profiles() = std::move(summary);
    }
    return reply;
  });
}

AgentService::Unary* AgentService::GetAgentInfo(Context* context,
                                                const v1::GetAgentInfoRequest* request,
                                                v1::AgentInfo* response) {
  return AnswerNow(context, *request, [&] { *response = info_; });
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
