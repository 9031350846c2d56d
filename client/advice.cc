#include "client/advice.h"

#include "absl/strings/str_cat.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"

namespace datagen::cli {
namespace {

constexpr char kLogin[] = "datagen auth login";
constexpr char kCheckServer[] =
    "check that the identity server (DATAGEN_API_URL) is reachable, then try again";

}  // namespace

std::string LoginCommand(const std::string& profile) {
  if (profile.empty() || profile == kDefaultProfile) return kLogin;
  return absl::StrCat(kLogin, " --profile ", profile);
}

std::string NextStep(const grpc::Status& status, bool agent_unreachable,
                     const std::string& profile) {
  if (agent_unreachable) return "";
  const std::string login = LoginCommand(profile);
  switch (ReasonFromName(status.error_details())) {
    case agent::v1::ERROR_REASON_NOT_SIGNED_IN:
    case agent::v1::ERROR_REASON_SESSION_EXPIRED:
    case agent::v1::ERROR_REASON_CREDENTIALS_CORRUPT:
      return absl::StrCat("run: ", login);
    case agent::v1::ERROR_REASON_LOGIN_EXPIRED:
      return absl::StrCat("run: ", login, " (for a new code)");
    case agent::v1::ERROR_REASON_NOT_A_MEMBER:
      return absl::StrCat("run: datagen auth org --list",
                          profile.empty() || profile == kDefaultProfile
                              ? ""
                              : absl::StrCat(" --profile ", profile));
    case agent::v1::ERROR_REASON_SERVER_UNREACHABLE:
      return kCheckServer;
    default:
      break;
  }
  switch (status.error_code()) {  // an agent that gives no reason (older, or none fits)
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::DATA_LOSS:
      return absl::StrCat("run: ", login);
    case grpc::StatusCode::UNAVAILABLE:
      return kCheckServer;
    default:
      return "";
  }
}

std::string RemedyCommand(agent::v1::Remedy remedy) {
  return remedy == agent::v1::REMEDY_SIGN_IN ? kLogin : "";
}

std::vector<std::string> WarningLines(
    const google::protobuf::RepeatedPtrField<std::string>& warnings,
    const google::protobuf::RepeatedPtrField<agent::v1::Warning>& details) {
  if (details.size() != warnings.size()) return {warnings.begin(), warnings.end()};
  std::vector<std::string> lines;
  for (const agent::v1::Warning& warning : details) {
    switch (warning.kind()) {
      case agent::v1::WARNING_KIND_NOT_A_MEMBER:
        lines.push_back(
            absl::StrCat(warning.message(), "; switch with: datagen auth org --use <slug>"));
        break;
      case agent::v1::WARNING_KIND_OTHER_ISSUER:
        lines.push_back(
            absl::StrCat(warning.message(), ". To sign in at the configured server: ", kLogin));
        break;
      default:
        lines.push_back(warning.message());
    }
  }
  return lines;
}

}  // namespace datagen::cli
