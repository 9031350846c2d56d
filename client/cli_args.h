// `datagen auth ...` argument parsing: argv in, a validated Invocation or a usage error out.
#ifndef DATAGEN_CLIENT_CLI_ARGS_H_
#define DATAGEN_CLIENT_CLI_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace datagen::cli {

enum class Command {
  kHelp,
  kVersion,
  kDoctor,
  kCompletion,
  kLogin,
  kLogout,
  kStatus,
  kWatch,
  kOrgList,
  kOrgUse,
  kToken,
  kAgentStart,
  kAgentStop,
  kAgentRestart,
  kAgentStatus,
};
enum class Format { kText, kJson };

struct Invocation {
  Command command = Command::kHelp;
  Format format = Format::kText;
  std::string org_slug;  // kOrgUse
  bool no_autostart = false;
  bool no_browser = false;  // kLogin
  bool verify = false;      // kStatus, kOrgList: ask the server now
  std::string help_text;    // kHelp, kVersion, kCompletion: what to print
};

// A usage error: `message` says what is wrong in one line, `usage` the command's synopsis.
// `format` is what --format said, if it was parsed before the error, so that the error can
// also be rendered as JSON.
struct UsageError {
  std::string message;
  std::string usage;
  Format format = Format::kText;
};

// Parses argv[1..]. Either the Invocation or a UsageError is set in the result.
struct ParseResult {
  bool ok = false;
  Invocation invocation;
  UsageError error;
};
ParseResult ParseArgs(const std::vector<std::string>& args);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_CLI_ARGS_H_
