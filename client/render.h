// Text and JSON output of each command (docs/cli.md "Output"). Pure: strings in, strings out.
#ifndef DATAGEN_CLIENT_RENDER_H_
#define DATAGEN_CLIENT_RENDER_H_

#include <string>

#include "absl/time/time.h"
#include "client/cli_args.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen::cli {

// The text form of each reply (docs/cli.md "Output").
std::string Text(const agent::v1::GetStatusResponse& reply);
std::string Text(const agent::v1::ListOrgsResponse& reply);
std::string Text(const agent::v1::UseOrgResponse& reply);
std::string Text(const agent::v1::LogoutResponse& reply);
std::string Text(const agent::v1::DeviceCode& code);
std::string Text(const agent::v1::LoginResult& result);
// One line per event: "generation=3 change=org_switched state=signed_in email=... ...".
std::string Text(const agent::v1::WatchEvent& event);
// `status --all`: a header, then one aligned line per profile (name, state, email, org, issuer).
std::string Text(const agent::v1::ListProfilesResponse& reply);
// `audit`: TIME PROFILE PID EXECUTABLE PARENT, newest first.
std::string Text(const agent::v1::ListTokenHandoutsResponse& reply);
// The token alone on a line.
std::string Text(const agent::v1::GetTokenResponse& reply);

// One-line JSON of a reply, every field printed, with the proto field names.
std::string ReplyJson(const google::protobuf::Message& reply);

// `reply` as the command prints it: its Text, or with --format json its ReplyJson.
template <typename Reply>
std::string Render(const Reply& reply, Format format) {
  return format == Format::kJson ? ReplyJson(reply) : Text(reply);
}

// `{"error": {"code": "...", "message": "..."}}` plus a newline.
std::string RenderJsonError(const std::string& code, const std::string& message);

// status when nobody is signed in (GetStatusResponse.signed_out): the error object of
// RenderJsonError("unauthenticated", message) with, beside it, "revocations_pending" when there
// are any and "pending_login" (its code and page) while a login waits, plus a newline.
// The warning `token` and `exec` print when the token handed out expires within --min-valid.
std::string MinValidWarning(const agent::v1::GetTokenResponse& reply, absl::Duration min_valid);

std::string RenderSignedOut(const agent::v1::GetStatusResponse& reply, const std::string& message);

// "unauthenticated", "unavailable", ... (gRPC's code names in lower case).
std::string CodeName(grpc::StatusCode code);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_RENDER_H_
