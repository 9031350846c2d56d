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

// Server text made safe to show a person: its first `limit` bytes, any byte that is not
// printable ASCII replaced by '?' (no escape sequences reach a terminal).
std::string PrintableText(absl::string_view text, size_t limit = 200);

// True for 1 to 100 characters of [A-Za-z0-9._-]: the organization slugs the agent accepts
// from servers and clients alike.
bool IsValidSlug(absl::string_view slug);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_TEXT_H_
