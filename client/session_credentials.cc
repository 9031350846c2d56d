#include "client/session_credentials.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "agent/common/proto_time.h"
#include "agent/common/secret_memory.h"
#include "agent/common/text.h"
#include "client/agent_client.h"

namespace datagen {
namespace {

absl::Status ToStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

absl::StatusOr<SessionCredentials> GetSessionCredentials(const CredentialsRequest& request,
                                                         const EnvLookup& env) {
  cli::CallScope scope;
  scope.profile = !request.profile.empty() ? request.profile : env("DATAGEN_PROFILE").value_or("");
  if (!scope.profile.empty() && !IsValidProfileName(scope.profile)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", OneLine(scope.profile), "' is not a profile name"));
  }
  if (!request.org.empty()) {
    scope.org = request.org;
    scope.org_source = agent::v1::ORG_SOURCE_FLAG;
  } else if (std::optional<std::string> org = env("DATAGEN_ORG")) {
    scope.org = *org;
    scope.org_source = agent::v1::ORG_SOURCE_ENV;
  }
  if (!scope.org.empty() && !IsValidSlug(scope.org)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", OneLine(scope.org), "' is not an organization slug"));
  }
  absl::StatusOr<std::string> socket = SocketPath(env, getuid());
  if (!socket.ok()) return socket.status();
  cli::AgentClient::Options options;
  options.socket_path = *socket;
  options.autostart = request.autostart && env("DATAGEN_NO_AUTOSTART").value_or("0") != "1";
  options.agent_log_path = AgentLogFile(*socket);
  cli::AgentClient agent(options);
  agent::v1::GetTokenResponse reply;
  grpc::Status status = agent.GetToken(&reply, scope, request.min_valid);
  if (!status.ok()) return ToStatus(status);
  SessionCredentials out;
  out.token = reply.token();
  WipeString(reply.mutable_token());
  out.token_type = reply.token_type().empty() ? "Bearer" : reply.token_type();
  out.api_url = reply.api_url();
  out.org = reply.active_org_slug();
  out.org_source = reply.org_source();
  out.profile = reply.profile();
  out.email = reply.email();
  if (reply.has_expires_at()) out.expires_at = ToTime(reply.expires_at());
  out.min_valid_unmet = reply.min_valid_unmet();
  return out;
}

}  // namespace datagen
