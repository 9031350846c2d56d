// JSON in and out through protobuf's JSON mapping (no hand-written parsing).
#ifndef DATAGEN_AGENT_COMMON_JSON_H_
#define DATAGEN_AGENT_COMMON_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace datagen {

// Parses `json` into `message` (cleared first). Unknown fields are ignored. InvalidArgument
// when the text is not JSON, nests too deeply, or has a field of the wrong type; the message
// says what `what` was ("the userinfo reply") but never quotes the input, which may hold secrets.
absl::Status ParseJson(absl::string_view json, absl::string_view what,
                       google::protobuf::Message* message);

// One-line JSON with the proto field names. `all_fields` also prints fields at their defaults.
std::string ToJson(const google::protobuf::Message& message, bool all_fields = false);

// Indented JSON with the proto field names, for files people may read.
std::string ToPrettyJson(const google::protobuf::Message& message);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_JSON_H_
