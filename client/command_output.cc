#include "client/command_output.h"

#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"
#include "client/render.h"

namespace datagen::cli {
namespace {

// What to tell the user to do next after a call failed, or "": chosen here only, from the
// agent's reason (the x-datagen-reason trailer, in error_details()) and, without one, its code.
// Never from the message text.
std::string NextStep(const grpc::Status& status, bool agent_unreachable) {
  if (agent_unreachable) return "";
  switch (ReasonFromName(status.error_details())) {
    case agent::v1::ERROR_REASON_NOT_SIGNED_IN:
    case agent::v1::ERROR_REASON_SESSION_EXPIRED:
    case agent::v1::ERROR_REASON_CREDENTIALS_CORRUPT:
      return "run: datagen auth login";
    case agent::v1::ERROR_REASON_LOGIN_EXPIRED:
      return "run: datagen auth login (for a new code)";
    case agent::v1::ERROR_REASON_NOT_A_MEMBER:
      return "run: datagen auth org --list";
    case agent::v1::ERROR_REASON_SERVER_UNREACHABLE:
      return "check that the identity server (DATAGEN_API_URL) is reachable, then try again";
    default:
      break;
  }
  switch (status.error_code()) {  // an agent that gives no reason (older, or none fits)
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::DATA_LOSS:
      return "run: datagen auth login";
    case grpc::StatusCode::UNAVAILABLE:
      return "check that the identity server (DATAGEN_API_URL) is reachable, then try again";
    default:
      return "";
  }
}

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
  if (std::string next = NextStep(status, AgentUnreachable(status)); !next.empty()) {
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
