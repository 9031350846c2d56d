#include "client/command_output.h"

#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "agent/common/text.h"
#include "client/advice.h"
#include "client/render.h"

namespace datagen::cli {
namespace {

int ExitCodeFor(const grpc::Status& status) {
  if (status.ok()) return kExitOk;
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return kExitSignedOut;
  return kExitError;
}

// Ctrl-C (or SIGTERM) during login: erase the spinner's line and leave at once. Closing the
// connection detaches this caller from the agent's login, which goes on for the others (or is
// cancelled when there are none).
void OnInterrupt(int) {
  static constexpr char kErase[] = "\r\033[K";
  if (isatty(STDERR_FILENO)) {
    ssize_t unused = write(STDERR_FILENO, kErase, sizeof(kErase) - 1);
    (void)unused;
  }
  _exit(kExitInterrupted);
}

}  // namespace

void Print(FILE* to, const std::string& text, Format format) {
  std::string safe =
      EscapeControls(text, format == Format::kJson ? Escaping::kJson : Escaping::kText);
  fwrite(safe.data(), 1, safe.size(), to);
}

int ReportError(const grpc::Status& status, absl::string_view what, const Invocation& inv,
                const Output& io) {
  // No password of a proxy URL quoted by a library reaches the screen (text or JSON).
  std::string message = RedactUrlUserinfo(status.error_message());
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    message = absl::StrCat("this datagen-agent does not offer `datagen auth ", what, "` yet");
  }
  if (message.empty()) message = CodeName(status.error_code());
  Print(io.err, absl::StrCat("error: ", OneLine(message), "\n"));
  if (std::string next = NextStep(status, AgentUnreachable(status), inv.profile); !next.empty()) {
    Print(io.err, next + "\n");
  }
  if (inv.format == Format::kJson) {
    Print(io.out, RenderJsonError(CodeName(status.error_code()), message), Format::kJson);
  }
  return ExitCodeFor(status);
}

void ExitAtOnceOnInterrupt() {
  signal(SIGINT, OnInterrupt);
  signal(SIGTERM, OnInterrupt);
}

}  // namespace datagen::cli
