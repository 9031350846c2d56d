// What text from servers, files and clients may be: a token, a slug, printable text; and server
// text made safe to show a person. Used by every layer that takes such text in.
//
// Pure functions; thread-safe.
#ifndef DATAGEN_AGENT_COMMON_TEXT_H_
#define DATAGEN_AGENT_COMMON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace datagen {

// True for 1 to 16 KiB of printable ASCII without spaces: what a bearer or refresh token (or a
// device code) may be.
bool IsTokenText(absl::string_view text);

// True for at most `limit` bytes of printable ASCII (no control characters).
bool IsPrintableText(absl::string_view text, size_t limit);

// Text from a server kept whole for the wire (protobuf strings must be valid UTF-8): valid UTF-8
// as given, control characters included (they are escaped where shown: EscapeControls); each
// byte that is not part of valid UTF-8 becomes the four characters "\xNN"; cut at `limit`
// bytes, never inside a character.
std::string ValidUtf8(absl::string_view text, size_t limit);

// How EscapeControls writes what it escapes.
enum class Escaping {
  kText,  // "\x1b" for C0 controls and DEL, "\u202e" for the others
  kJson,  // "\u001b", "\u202e": valid JSON string escapes, for JSON text
};

// Text made safe for a terminal, with nothing lost: every character that could move the cursor,
// change colours, clear the screen or reorder what is shown (C0 controls but newline and tab,
// DEL, C1 controls, the Unicode bidirectional and line-separator controls) is written as a
// visible escape; so is each byte that is not valid UTF-8 ("\xNN"; in kJson, U+FFFD). Every
// other character, any script, is kept as given.
std::string EscapeControls(absl::string_view text, Escaping how = Escaping::kText);

// Text made safe to show on one line (a field of text output, an error, a log line, a doctor
// verdict): EscapeControls, and newline and tab written visibly too ("\n", "\t"), so that no
// server string can start a line of its own and forge one.
std::string OneLine(absl::string_view text);

// Server text made safe to show a person in a message or a log line: ValidUtf8 of its first
// `limit` bytes, then OneLine.
std::string PrintableText(absl::string_view text, size_t limit = 200);

// `text` with the userinfo ("user:password@") of every URL in it replaced by "***@": the one
// redaction for URLs and for a library's error text (curl quotes a malformed proxy URL whole)
// wherever they reach a person or a log. A URL runs from its "://" to the next white space or
// quote; its userinfo ends at the last '@' in that run, so a password that contains '@' is
// hidden whole.
std::string RedactUrlUserinfo(absl::string_view text);

// True for 1 to 100 characters of [A-Za-z0-9._-]: the organization slugs the agent accepts
// from servers and clients alike.
bool IsValidSlug(absl::string_view slug);

// The profile every request means when it names none: the credentials file itself.
inline constexpr char kDefaultProfile[] = "default";
// True for a profile name: 1 to 32 characters of [a-z0-9_-], the first a letter or digit
// ("default" included). Such a name is safe as a file name and on a prompt.
bool IsValidProfileName(absl::string_view name);
// `name`, or kDefaultProfile when it is empty (a request that names no profile).
std::string ProfileOrDefault(absl::string_view name);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_TEXT_H_
