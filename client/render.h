// Text and JSON output of each command (cli.md "Output"). Pure: strings in, strings out.
#ifndef DATAGEN_CLIENT_RENDER_H_
#define DATAGEN_CLIENT_RENDER_H_

#include <string>

#include "client/cli_args.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen::cli {

std::string RenderStatus(const agent::v1::GetStatusResponse& reply, Format format);
std::string RenderOrgList(const agent::v1::ListOrgsResponse& reply, Format format);
std::string RenderOrgUse(const agent::v1::UseOrgResponse& reply, Format format);
std::string RenderLogout(const agent::v1::LogoutResponse& reply, Format format);
std::string RenderDeviceCode(const agent::v1::DeviceCode& code, Format format);
std::string RenderLoginResult(const agent::v1::LoginResult& result, Format format);
// One line per event: "generation=3 change=org_switched state=signed_in email=... ...".
std::string RenderWatchEvent(const agent::v1::WatchEvent& event, Format format);
// The token alone on a line (text), or {"token", "expires_at"} (json).
std::string RenderToken(const agent::v1::GetTokenResponse& reply, Format format);

// `{"error": {"code": "...", "message": "..."}}` plus a newline.
std::string RenderJsonError(const std::string& code, const std::string& message);

// "unauthenticated", "unavailable", ... (gRPC's code names in lower case).
std::string CodeName(grpc::StatusCode code);

// One-line JSON of a reply, every field printed, with the proto field names.
std::string ReplyJson(const google::protobuf::Message& reply);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_RENDER_H_
