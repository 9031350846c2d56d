#include "agent/agent_service.h"

#include <string>

namespace datagen {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

AgentService::AgentService(Session& session, Executor& executor)
    : session_(session), executor_(executor) {}

template <typename Response, typename Call>
grpc::ServerUnaryReactor* AgentService::Offload(grpc::CallbackServerContext* context,
                                                Response* response, Call call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Lets clients tell this agent's own errors (e.g. UNAVAILABLE: the identity server is down)
  // from failing to reach the agent at all.
  context->AddTrailingMetadata(std::string(kAgentReplyKey), "1");
  executor_.Run([reactor, response, call = std::move(call)] {
    absl::StatusOr<Response> result = call();
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::GetStatus(grpc::CallbackServerContext* context,
                                                  const agent::v1::GetStatusRequest*,
                                                  agent::v1::GetStatusResponse* response) {
  return Offload(context, response, [this] { return session_.Status(); });
}

grpc::ServerUnaryReactor* AgentService::ListOrgs(grpc::CallbackServerContext* context,
                                                 const agent::v1::ListOrgsRequest*,
                                                 agent::v1::ListOrgsResponse* response) {
  return Offload(context, response, [this] { return session_.ListOrgs(); });
}

grpc::ServerUnaryReactor* AgentService::UseOrg(grpc::CallbackServerContext* context,
                                               const agent::v1::UseOrgRequest* request,
                                               agent::v1::UseOrgResponse* response) {
  std::string slug = request->slug();
  return Offload(context, response, [this, slug] { return session_.UseOrg(slug); });
}

grpc::ServerUnaryReactor* AgentService::Logout(grpc::CallbackServerContext* context,
                                               const agent::v1::LogoutRequest*,
                                               agent::v1::LogoutResponse* response) {
  return Offload(context, response, [this] { return session_.Logout(); });
}

}  // namespace datagen
