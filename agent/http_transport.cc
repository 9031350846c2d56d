#include "agent/http_transport.h"

#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace datagen {

int OversizedReplyStatus(const absl::Status& status) {
  if (!absl::IsResourceExhausted(status)) return 0;
  auto payload = status.GetPayload(kHttpStatusPayload);  // absl::optional<absl::Cord>
  int code = 0;
  return payload && absl::SimpleAtoi(std::string(*payload), &code) ? code : 0;
}

absl::string_view HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace datagen
