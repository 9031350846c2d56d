#include "client/render.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/common/json.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace datagen::cli {
namespace {

std::string Line(absl::string_view key, absl::string_view value) {
  return absl::StrCat(key, ": ", value, "\n");
}

std::string UserLines(absl::string_view email, absl::string_view org, absl::string_view role) {
  return absl::StrCat(Line("email", email), Line("active_org_slug", org), Line("role", role));
}

}  // namespace

std::string ReplyJson(const google::protobuf::Message& reply) {
  return ToJson(reply, /*all_fields=*/true) + "\n";
}

std::string RenderStatus(const agent::v1::GetStatusResponse& reply, Format format) {
  if (format == Format::kJson) return ReplyJson(reply);
  return UserLines(reply.email(), reply.active_org_slug(), reply.role());
}

std::string RenderOrgList(const agent::v1::ListOrgsResponse& reply, Format format) {
  if (format == Format::kJson) return ReplyJson(reply);
  std::string out =
      absl::StrCat(Line("active_org_slug", reply.active_org_slug()), "memberships:\n");
  for (const auto& m : reply.memberships()) {
    absl::StrAppend(&out, "- ", m.slug(), " (", m.role(), m.active() ? ", active" : "", ")\n");
  }
  return out;
}

std::string RenderOrgUse(const agent::v1::UseOrgResponse& reply, Format format) {
  if (format == Format::kJson) return ReplyJson(reply);
  return UserLines(reply.email(), reply.active_org_slug(), reply.role());
}

std::string RenderLogout(const agent::v1::LogoutResponse& reply, Format format) {
  if (format == Format::kJson) return ReplyJson(reply);
  return Line("status", reply.status());
}

std::string RenderDeviceCode(const agent::v1::DeviceCode& code, Format format) {
  if (format == Format::kJson) return ReplyJson(code);
  return absl::StrCat(Line("User code", code.user_code()),
                      Line("Verify at", code.verification_uri()));
}

std::string RenderLoginResult(const agent::v1::LoginResult& result, Format format) {
  if (format == Format::kJson) return ReplyJson(result);
  return absl::StrCat(Line("status", result.status()), Line("email", result.email()),
                      Line("active_org_slug", result.active_org_slug()));
}

namespace {

// "SESSION_CHANGE_ORG_SWITCHED" -> "org_switched".
std::string EnumWord(const std::string& name, absl::string_view prefix) {
  std::string word = absl::AsciiStrToLower(name);
  std::string lower_prefix = absl::AsciiStrToLower(prefix);
  if (absl::StartsWith(word, lower_prefix)) word = word.substr(lower_prefix.size());
  return word;
}

}  // namespace

std::string RenderWatchEvent(const agent::v1::WatchEvent& event, Format format) {
  if (format == Format::kJson) return ReplyJson(event);
  const agent::v1::SessionSnapshot& s = event.session();
  std::string line = absl::StrCat(
      "generation=", event.generation(),
      " change=", EnumWord(agent::v1::SessionChange_Name(event.change()), "SESSION_CHANGE_"),
      " state=", EnumWord(agent::v1::SessionState_Name(s.state()), "SESSION_STATE_"));
  if (!s.email().empty()) absl::StrAppend(&line, " email=", s.email());
  if (!s.active_org_slug().empty())
    absl::StrAppend(&line, " active_org_slug=", s.active_org_slug());
  if (s.has_pending_login()) absl::StrAppend(&line, " user_code=", s.pending_login().user_code());
  if (s.revocations_pending() > 0) {
    absl::StrAppend(&line, " revocations_pending=", s.revocations_pending());
  }
  return line + "\n";
}

std::string RenderToken(const agent::v1::GetTokenResponse& reply, Format format) {
  if (format == Format::kJson) return ReplyJson(reply);
  return reply.token() + "\n";
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::UNKNOWN:
      return "unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid_argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline_exceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "not_found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already_exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission_denied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed_precondition";
    case grpc::StatusCode::ABORTED:
      return "aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "out_of_range";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "data_loss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    default:
      return "unknown";
  }
}

namespace {

// A JSON string literal, escaped by protobuf's JSON printer.
std::string JsonString(const std::string& text) {
  google::protobuf::Value value;
  value.set_string_value(text);
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(value, &out);
  return out;
}

}  // namespace

std::string RenderJsonError(const std::string& code, const std::string& message) {
  // Written out rather than through google.protobuf.Struct, whose key order is unspecified.
  return absl::StrCat("{\"error\":{\"code\":", JsonString(code),
                      ",\"message\":", JsonString(message), "}}\n");
}

}  // namespace datagen::cli
