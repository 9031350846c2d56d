// What every command handler shares: printing (escaped for the terminal), reporting an error
// with the next step chosen from the agent's reason and code (one place), exit codes, and
// leaving at once on Ctrl-C. Used by commands.cc and the handlers in files of their own.
#ifndef DATAGEN_CLIENT_COMMAND_OUTPUT_H_
#define DATAGEN_CLIENT_COMMAND_OUTPUT_H_

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"
#include "client/agent_client.h"
#include "client/cli_args.h"

namespace datagen::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitSignedOut = 4;
inline constexpr int kExitInterrupted = 130;

// Where a command writes. Not owned.
struct Output {
  FILE* out = stdout;
  FILE* err = stderr;
};

// Everything the CLI prints goes through here: strings from servers (an email, a role, an error
// description) are shown whole, but no control character, escape sequence or bidirectional
// override reaches the terminal raw (EscapeControls). JSON stays valid JSON (\uXXXX escapes).
void Print(FILE* to, const std::string& text, Format format = Format::kText);

// Reports a failed call of `what` ("status", "org --use"): `error: ...` and the next step on
// stderr, the JSON error object on stdout with --format json. Returns the exit code (4 for
// UNAUTHENTICATED, else 1).
int ReportError(const grpc::Status& status, absl::string_view what, const Invocation& inv,
                const Output& io);

// From now on, Ctrl-C (or SIGTERM) erases the spinner's line and exits 130 at once. Closing the
// connection detaches this caller from the agent's login or watch.
void ExitAtOnceOnInterrupt();

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_COMMAND_OUTPUT_H_
