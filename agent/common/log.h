// Minimal logging for the agent: one line per event on stderr (the journal under systemd).
//
// Contract: callers never pass a token, refresh token or device code. Every line is written with
// its control characters escaped (EscapeControls): a server's strings in a message cannot drive
// the terminal of whoever reads the log.
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

// LogInfo("signed in as %s", email), and so on: a formatted LogLine at that level.
template <LogLevel kLevel>
struct LevelLogger {
  template <typename... Args>
  void operator()(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    LogLine(kLevel, absl::StrFormat(format, args...));
  }
};
inline constexpr LevelLogger<LogLevel::kInfo> LogInfo;
inline constexpr LevelLogger<LogLevel::kWarning> LogWarning;
inline constexpr LevelLogger<LogLevel::kError> LogError;
inline constexpr LevelLogger<LogLevel::kDebug> LogDebug;

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_LOG_H_
