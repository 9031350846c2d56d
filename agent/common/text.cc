#include "agent/common/text.h"

#include <cstdint>

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

namespace {

// The length of the valid UTF-8 character at the start of `text` (1 to 4) and its code point,
// or 0 when it does not start with one (RFC 3629: no overlongs, surrogates or code points past
// U+10FFFF).
int DecodeUtf8(absl::string_view text, uint32_t* code_point) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(0);
  if (c < 0x80) {
    *code_point = c;
    return 1;
  }
  int length = 0;
  uint32_t cp = 0, min = 0;
  if ((c & 0xe0) == 0xc0) {
    length = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    length = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    length = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < static_cast<size_t>(length)) return 0;
  for (int i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  *code_point = cp;
  return length;
}

bool IsControl(uint32_t cp, bool keep_lines) {
  if (keep_lines && (cp == '\n' || cp == '\t')) return false;
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||             // C0, DEL, C1
         cp == 0x061c || cp == 0x200e || cp == 0x200f ||                      // bidi marks
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||  // bidi controls
         cp == 0x2028 || cp == 0x2029;  // line/paragraph separators
}

std::string HexByte(unsigned char b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{'\\', 'x', kHex[b >> 4], kHex[b & 15]};
}

std::string Unicode(uint32_t cp) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{
      '\\', 'u', kHex[(cp >> 12) & 15], kHex[(cp >> 8) & 15], kHex[(cp >> 4) & 15], kHex[cp & 15]};
}

}  // namespace

std::string ValidUtf8(absl::string_view text, size_t limit) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    int length = DecodeUtf8(text.substr(i), &cp);
    std::string piece = length > 0 ? std::string(text.substr(i, length))
                                   : HexByte(static_cast<unsigned char>(text[i]));
    if (out.size() + piece.size() > limit) break;
    out += piece;
    i += length > 0 ? length : 1;
  }
  return out;
}

namespace {

std::string Escape(absl::string_view text, Escaping how, bool keep_lines) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    int length = DecodeUtf8(text.substr(i), &cp);
    if (length == 0) {
      out +=
          how == Escaping::kJson ? Unicode(0xfffd) : HexByte(static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (IsControl(cp, keep_lines)) {
      if (how == Escaping::kText && (cp == '\n' || cp == '\t')) {
        out += cp == '\n' ? "\\n" : "\\t";
      } else {
        out += how == Escaping::kText && (cp < 0x20 || cp == 0x7f) ? HexByte(cp) : Unicode(cp);
      }
    } else {
      out.append(text.data() + i, length);
    }
    i += length;
  }
  return out;
}

}  // namespace

std::string EscapeControls(absl::string_view text, Escaping how) {
  return Escape(text, how, /*keep_lines=*/true);
}

std::string OneLine(absl::string_view text) {
  return Escape(text, Escaping::kText, /*keep_lines=*/false);
}

std::string PrintableText(absl::string_view text, size_t limit) {
  return OneLine(ValidUtf8(text, limit));
}

std::string RedactUrlUserinfo(absl::string_view text) {
  const auto ends_url = [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '"' ||
           c == '<' || c == '>' || c == '`';
  };
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t scheme = text.find("://", pos);
    if (scheme == absl::string_view::npos) break;
    size_t start = scheme + 3, end = start;
    while (end < text.size() && !ends_url(text[end])) ++end;
    size_t at = text.substr(start, end - start).rfind('@');
    out.append(text.data() + pos, start - pos);
    pos = start;
    if (at != absl::string_view::npos) {
      out += "***@";
      pos = start + at + 1;
    }
  }
  if (pos < text.size()) out.append(text.data() + pos, text.size() - pos);
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

bool IsValidProfileName(absl::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    bool letter_or_digit = absl::ascii_islower(c) || absl::ascii_isdigit(c);
    if (!letter_or_digit && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

std::string ProfileOrDefault(absl::string_view name) {
  return name.empty() ? std::string(kDefaultProfile) : std::string(name);
}

}  // namespace datagen
