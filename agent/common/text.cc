#include "agent/common/text.h"

#include "absl/strings/ascii.h"

namespace datagen {
namespace {

constexpr size_t kMaxSecretBytes = 16384;

}  // namespace

bool IsTokenText(absl::string_view text) {
  if (text.empty() || text.size() > kMaxSecretBytes) return false;
  for (char c : text) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsPrintableText(absl::string_view text, size_t limit) {
  if (text.size() > limit) return false;
  for (char c : text) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string PrintableText(absl::string_view text, size_t limit) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    out.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : '?');
  }
  return out;
}

bool IsValidSlug(absl::string_view slug) {
  if (slug.empty() || slug.size() > 100) return false;
  for (char c : slug) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace datagen
