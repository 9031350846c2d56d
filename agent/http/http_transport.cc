#include "agent/http/http_transport.h"

#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/common/reason.h"
#include "agent/http/url.h"

namespace datagen {

int OversizedReplyStatus(const absl::Status& status) {
  if (!absl::IsResourceExhausted(status)) return 0;
  auto payload = status.GetPayload(kHttpStatusPayload);  // absl::optional<absl::Cord>
  int code = 0;
  return payload && absl::SimpleAtoi(std::string(*payload), &code) ? code : 0;
}

HttpRequest FormPost(std::string url,
                     const std::vector<std::pair<std::string, std::string>>& fields) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = FormEncode(fields);
  return request;
}

absl::Status TransportError(const absl::Status& failed, absl::string_view context) {
  std::string message = absl::StrCat(context, ": ", failed.message());
  switch (failed.code()) {
    case absl::StatusCode::kCancelled:
      return failed;
    case absl::StatusCode::kUnavailable:
      // One wording per outage, whatever step met it ("could not reach <host>: ..." or
      // "timed out talking to <host>"): the step is not what the user can act on.
      return WithReason(failed, agent::v1::ERROR_REASON_SERVER_UNREACHABLE);
    case absl::StatusCode::kResourceExhausted:
      return absl::UnknownError(message);
    case absl::StatusCode::kInvalidArgument:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(
          absl::StrCat(message, " (a fault of this installation, not of the server)"));
  }
}

absl::string_view HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace datagen
