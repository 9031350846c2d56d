#include "agent/common/json.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace datagen {
namespace {

// protobuf 3.21's JSON parser recurses without a bound; refuse pathological nesting first.
constexpr int kMaxJsonDepth = 32;

bool NestsTooDeeply(absl::string_view json) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// protobuf's error text can repeat the offending value, which may be a secret (a token in the
// wrong field): keep only the field path it starts with, "(a.b): ...", and nothing after it.
std::string FieldPathOnly(absl::string_view text) {
  if (text.empty() || text[0] != '(') return "";
  size_t close = text.find(')');
  if (close == absl::string_view::npos || close > 128) return "";
  std::string path(text.substr(1, close - 1));
  for (char c : path) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' &&
        c != ']') {
      return "";
    }
  }
  return path.empty() ? "" : absl::StrCat(" (field ", path, ")");
}

}  // namespace

absl::Status ParseJson(absl::string_view json, absl::string_view what,
                       google::protobuf::Message* message) {
  message->Clear();
  if (NestsTooDeeply(json)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " nests JSON too deeply"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!status.ok()) {
    message->Clear();
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not valid JSON of the expected shape",
        FieldPathOnly(absl::string_view(status.message().data(), status.message().size()))));
  }
  return absl::OkStatus();
}

namespace {

// protobuf's JSON printer with the field names as in the .proto files.
std::string Print(const google::protobuf::Message& message, bool all_fields, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = all_fields;
  options.add_whitespace = pretty;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message, bool all_fields) {
  return Print(message, all_fields, /*pretty=*/false);
}

std::string ToPrettyJson(const google::protobuf::Message& message) {
  return Print(message, /*all_fields=*/false, /*pretty=*/true);
}

}  // namespace datagen
