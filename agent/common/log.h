// Minimal logging for the agent: one line per event on stderr (the journal under systemd).
//
// Contract: callers never pass a token, refresh token or device code. Messages derived from
// server replies go through RedactForLog first.
#ifndef DATAGEN_AGENT_COMMON_LOG_H_
#define DATAGEN_AGENT_COMMON_LOG_H_

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace datagen {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Lines below this level are dropped. Default kInfo. Not thread-safe to change while logging.
void SetLogLevel(LogLevel level);

// Writes "<RFC 3339 time> <level> <message>\n" to stderr in one write(2). Thread-safe.
void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kInfo, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogWarning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kWarning, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogError(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kError, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogDebug(const absl::FormatSpec<Args...>& format, const Args&... args) {
  LogLine(LogLevel::kDebug, absl::StrFormat(format, args...));
}

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_LOG_H_
