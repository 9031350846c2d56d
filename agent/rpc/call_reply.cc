#include "agent/rpc/call_reply.h"

#include <string>

#include "agent/common/reason.h"
#include "agent/common/wire_contract.h"

namespace datagen {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

namespace {

// Adds the reason `status` carries (reason.h), if any, to the reply's trailers.
void AddReason(grpc::CallbackServerContext* context, const absl::Status& status) {
  if (agent::v1::ErrorReason reason = ReasonOf(status);
      reason != agent::v1::ERROR_REASON_UNSPECIFIED) {
    context->AddTrailingMetadata(std::string(kErrorReasonKey), ReasonName(reason));
  }
}

}  // namespace

grpc::Status Reply(grpc::CallbackServerContext* context, const absl::Status& status) {
  AddReason(context, status);
  return ToGrpcStatus(status);
}

void MarkReply(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info) {
  context->AddTrailingMetadata(std::string(kAgentReplyKey), "1");
  context->AddTrailingMetadata(std::string(kAgentVersionKey), info.version());
  context->AddTrailingMetadata(std::string(kAgentBinaryKey), info.binary_id());
}

}  // namespace datagen
