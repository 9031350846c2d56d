// `datagen auth ...` argument parsing: argv in, a validated Invocation or a usage error out.
#ifndef DATAGEN_CLIENT_CLI_ARGS_H_
#define DATAGEN_CLIENT_CLI_ARGS_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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
  kExec,
  kAudit,
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
  // --profile (a valid name, text.h), "" when not given; ResolveEnvironment fills it from
  // DATAGEN_PROFILE then.
  std::string profile;
  // --org (a valid slug), "" when not given; ResolveEnvironment fills it from DATAGEN_ORG then.
  std::string org;
  enum class OrgFrom { kNone, kFlag, kEnv };
  OrgFrom org_from = OrgFrom::kNone;
  bool all_profiles = false;  // status --all, logout --all (and status --watch --all)
  std::string api_url;        // login --api-url; ResolveEnvironment: else DATAGEN_API_URL
  bool no_autostart = false;
  bool no_browser = false;  // kLogin
  bool verify = false;      // kStatus, kOrgList: ask the server now
  // kToken, kExec: --min-valid (positive, at most a week); zero when not given.
  absl::Duration min_valid = absl::ZeroDuration();
  // kExec: the command and its arguments (after `--`), never empty.
  std::vector<std::string> exec_argv;
  std::string help_text;  // kHelp, kVersion, kCompletion: what to print
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

// What the environment adds to `inv` where its flags said nothing: DATAGEN_PROFILE,
// DATAGEN_ORG, and login's DATAGEN_API_URL (`env` returns a variable's value, nullopt when unset
// or empty). A DATAGEN_PROFILE or DATAGEN_ORG that is not a name or a slug is a usage error,
// as the flag would be: the message names the variable.
std::optional<UsageError> ResolveEnvironment(
    const std::function<std::optional<std::string>(absl::string_view)>& env, Invocation* inv);

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_CLI_ARGS_H_
