#include "client/cli_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace datagen::cli {
namespace {

constexpr char kTopUsage[] = "usage: datagen auth <login|logout|status|org> [--format text|json]";

constexpr char kHelp[] =
    "Sign in via device flow, switch organizations, and check your session.\n"
    "\n"
    "usage:\n"
    "  datagen auth login   [--format text|json] [--no-browser]\n"
    "  datagen auth logout  [--format text|json]\n"
    "  datagen auth status  [--format text|json] [--verify | --watch]\n"
    "  datagen auth token   [--format text|json]   (prints the access token, for scripts)\n"
    "  datagen auth org --list        [--format text|json] [--verify]\n"
    "  datagen auth org --use <slug>  [--format text|json]\n"
    "\n"
    "status and org --list answer from the agent's memory when the server confirmed the\n"
    "session within the last minute; --verify asks the server now.\n"
    "\n"
    "common flags:\n"
    "  --format text|json  output format (default text)\n"
    "  --no-autostart      do not start datagen-agent when none is running\n"
    "                      (also DATAGEN_NO_AUTOSTART=1)\n"
    "\n"
    "exit codes: 0 ok, 1 error, 2 usage error, 4 not signed in or session expired\n";

std::string UsageFor(const std::string& command) {
  if (command == "login") return "usage: datagen auth login [--format text|json] [--no-browser]";
  if (command == "org") {
    return "usage: datagen auth org (--list [--verify] | --use <slug>) [--format text|json]";
  }
  if (command == "status") {
    return "usage: datagen auth status [--format text|json] [--verify | --watch]";
  }
  if (command == "logout" || command == "token") {
    return absl::StrCat("usage: datagen auth ", command, " [--format text|json]");
  }
  return kTopUsage;
}

ParseResult Error(std::string message, const std::string& command, Format format) {
  ParseResult result;
  result.error = {std::move(message), UsageFor(command), format};
  return result;
}

}  // namespace

ParseResult ParseArgs(const std::vector<std::string>& args) {
  ParseResult result;
  Invocation& inv = result.invocation;
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    inv.help_text = kHelp;
    result.ok = true;
    return result;
  }
  if (args[0] != "auth") {
    return Error(absl::StrCat("unknown command: ", args[0]), "", Format::kText);
  }
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    inv.help_text = kHelp;
    result.ok = true;
    return result;
  }
  const std::string& command = args[1];
  if (command != "login" && command != "logout" && command != "status" && command != "org" &&
      command != "token") {
    return Error(absl::StrCat("unknown command: auth ", command), "", Format::kText);
  }
  bool list = false;
  bool use = false;
  bool watch = false;
  bool format_seen = false;
  // First pass for --format, so that every later usage error can be rendered in it.
  for (size_t i = 2; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--format" && i + 1 < args.size()) {
      value = args[i + 1];
    } else if (absl::StartsWith(args[i], "--format=")) {
      value = args[i].substr(9);
    } else {
      continue;
    }
    if (value == "json") inv.format = Format::kJson;
  }
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto take_value = [&](absl::string_view flag, std::string* out) -> bool {
      std::string eq = absl::StrCat(flag, "=");
      if (absl::StartsWith(arg, eq)) {
        *out = arg.substr(eq.size());
        return true;
      }
      if (i + 1 >= args.size() || absl::StartsWith(args[i + 1], "--")) return false;
      *out = args[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      inv.command = Command::kHelp;
      inv.help_text = absl::StrCat(UsageFor(command), "\n");
      result.ok = true;
      return result;
    }
    if (arg == "--format" || absl::StartsWith(arg, "--format=")) {
      std::string value;
      if (format_seen) return Error("--format given twice", command, inv.format);
      format_seen = true;
      if (!take_value("--format", &value)) {
        return Error("--format needs a value: text or json", command, inv.format);
      }
      if (value == "text") {
        inv.format = Format::kText;
      } else if (value == "json") {
        inv.format = Format::kJson;
      } else {
        return Error(absl::StrCat("--format must be text or json, not ", value), command,
                     inv.format);
      }
    } else if (arg == "--no-autostart") {
      inv.no_autostart = true;
    } else if (arg == "--no-browser" && command == "login") {
      inv.no_browser = true;
    } else if (arg == "--verify" && (command == "status" || command == "org")) {
      inv.verify = true;
    } else if (arg == "--watch" && command == "status") {
      watch = true;
    } else if (arg == "--list" && command == "org") {
      list = true;
    } else if ((arg == "--use" || absl::StartsWith(arg, "--use=")) && command == "org") {
      if (use) return Error("--use given twice", command, inv.format);
      use = true;
      if (!take_value("--use", &inv.org_slug) || inv.org_slug.empty()) {
        return Error("--use needs an organization slug", command, inv.format);
      }
    } else if (absl::StartsWith(arg, "-")) {
      return Error(absl::StrCat("unknown flag for auth ", command, ": ", arg), command, inv.format);
    } else {
      return Error(absl::StrCat("unexpected argument: ", arg), command, inv.format);
    }
  }
  if (command == "login") {
    inv.command = Command::kLogin;
  } else if (command == "logout") {
    inv.command = Command::kLogout;
  } else if (command == "status") {
    if (watch && inv.verify)
      return Error("--verify and --watch do not go together", command, inv.format);
    inv.command = watch ? Command::kWatch : Command::kStatus;
  } else if (command == "token") {
    inv.command = Command::kToken;
  } else if (list == use) {
    return Error("auth org needs exactly one of --list or --use <slug>", command, inv.format);
  } else if (use && inv.verify) {
    return Error("--verify goes with --list (--use always checks with the server)", command,
                 inv.format);
  } else {
    inv.command = list ? Command::kOrgList : Command::kOrgUse;
  }
  result.ok = true;
  return result;
}

}  // namespace datagen::cli
