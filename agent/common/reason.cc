#include "agent/common/reason.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace datagen {
namespace {
constexpr char kReasonPayload[] = "datagen.dev/error-reason";
}  // namespace

absl::Status WithReason(absl::Status status, agent::v1::ErrorReason reason) {
  if (status.ok() || reason == agent::v1::ERROR_REASON_UNSPECIFIED) return status;
  status.SetPayload(kReasonPayload, absl::Cord(absl::StrCat(static_cast<int>(reason))));
  return status;
}

agent::v1::ErrorReason ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayload);  // optional<Cord>
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value) ||
      !agent::v1::ErrorReason_IsValid(value)) {
    return agent::v1::ERROR_REASON_UNSPECIFIED;
  }
  return static_cast<agent::v1::ErrorReason>(value);
}

std::string ReasonName(agent::v1::ErrorReason reason) {
  return agent::v1::ErrorReason_Name(reason);
}

agent::v1::ErrorReason ReasonFromName(const std::string& name) {
  agent::v1::ErrorReason reason = agent::v1::ERROR_REASON_UNSPECIFIED;
  if (!agent::v1::ErrorReason_Parse(name, &reason)) return agent::v1::ERROR_REASON_UNSPECIFIED;
  return reason;
}

}  // namespace datagen
