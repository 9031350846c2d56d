#include "client/cli_args.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "agent/common/text.h"
#include "agent/common/version.h"
#include "client/command_table.h"
#include "client/completion.h"

namespace datagen::cli {
namespace {

bool IsHelp(const std::string& arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

// "Nothing wrong so far": parsing goes on.
ParseResult Continue() {
  ParseResult result;
  result.ok = true;
  return result;
}

ParseResult Error(std::string message, const CommandSpec* command, Format format) {
  ParseResult result;
  result.error = {std::move(message), UsageFor(command), format};
  return result;
}

// The --format asked for anywhere on the line (even before or after an unknown command), so
// that every usage error can be rendered in it.
Format RequestedFormat(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--format" && i + 1 < args.size() && args[i + 1] == "json") ||
        args[i] == "--format=json") {
      return Format::kJson;
    }
  }
  return Format::kText;
}

// The flags given to `command`, by name: a switch maps to "", a value flag to its value.
struct Flags {
  std::map<std::string, std::string> given;
  std::string action;                 // the command's one argument, for a command that takes one
  bool dashdash = false;              // `--` was given (exec: the command follows)
  std::vector<std::string> trailing;  // what follows `--`
  bool has(const std::string& name) const { return given.count(name) > 0; }
};

// Reads the flags after `datagen auth <command>` as the table defines them. Sets *help when
// --help was asked for.
ParseResult ReadFlags(const std::vector<std::string>& args, const CommandSpec& command,
                      Format format, Flags* flags, bool* help) {
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--" && command.name == "exec") {
      flags->dashdash = true;
      flags->trailing.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return Continue();
    }
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return Continue();
    }
    size_t eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    const FlagSpec* flag = absl::StartsWith(arg, "--") ? FindFlag(command, name) : nullptr;
    if (flag == nullptr && !absl::StartsWith(arg, "-") && !command.actions.empty() &&
        flags->action.empty()) {
      if (std::find(command.actions.begin(), command.actions.end(), arg) == command.actions.end()) {
        return Error(absl::StrCat("auth ", command.name, " takes ",
                                  absl::StrJoin(command.actions, ", "), ", not ", OneLine(arg)),
                     &command, format);
      }
      flags->action = arg;
      continue;
    }
    if (flag == nullptr || (!flag->takes_value && eq != std::string::npos)) {
      if (absl::StartsWith(arg, "-")) {
        return Error(absl::StrCat("unknown flag for auth ", command.name, ": ", arg), &command,
                     format);
      }
      if (command.name == "exec") {
        return Error(absl::StrCat("auth exec needs a command after --, e.g. datagen auth exec -- ",
                                  OneLine(arg)),
                     &command, format);
      }
      return Error(absl::StrCat("unexpected argument: ", arg), &command, format);
    }
    std::string value;
    if (flag->takes_value) {
      if (flags->has(name)) return Error(name + " given twice", &command, format);
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
        value = args[++i];
      }
      if (value.empty()) return Error(flag->missing_value, &command, format);
    }
    flags->given[name] = value;
  }
  return Continue();
}

// The command's own rules, once its flags are read.
// --profile, --org, --all and --api-url, where the command takes them.
ParseResult ResolveScope(const CommandSpec& command, const Flags& flags, Invocation* inv) {
  if (flags.has("--profile")) {
    inv->profile = flags.given.at("--profile");
    if (!IsValidProfileName(inv->profile)) {
      return Error(absl::StrCat("'", OneLine(inv->profile),
                                "' is not a profile name (1 to 32 of a-z 0-9 _ -, starting with a "
                                "letter or digit)"),
                   &command, inv->format);
    }
  }
  if (flags.has("--org")) {
    inv->org = flags.given.at("--org");
    inv->org_from = Invocation::OrgFrom::kFlag;
    if (!IsValidSlug(inv->org)) {
      return Error(absl::StrCat("'", OneLine(inv->org),
                                "' is not an organization slug (1 to 100 of A-Z a-z 0-9 . _ -)"),
                   &command, inv->format);
    }
  }
  inv->all_profiles = flags.has("--all");
  if (inv->all_profiles && (flags.has("--profile") || flags.has("--org"))) {
    return Error("--all goes with neither --profile nor --org", &command, inv->format);
  }
  if (flags.has("--api-url")) inv->api_url = flags.given.at("--api-url");
  if (flags.has("--min-valid")) {
    const std::string& text = flags.given.at("--min-valid");
    absl::Duration d;
    if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() || d > absl::Hours(24 * 7)) {
      return Error(absl::StrCat("--min-valid takes a duration from 1s to a week, such as 90s, 10m "
                                "or 1h30m, not '",
                                OneLine(text), "'"),
                   &command, inv->format);
    }
    inv->min_valid = d;
  }
  return Continue();
}

ParseResult Resolve(const CommandSpec& command, const Flags& flags, Invocation inv) {
  inv.no_autostart = flags.has("--no-autostart");
  inv.no_browser = flags.has("--no-browser");
  inv.verify = flags.has("--verify");
  if (ParseResult scope = ResolveScope(command, flags, &inv); !scope.ok) return scope;
  const std::string& name = command.name;
  if (name == "login") inv.command = Command::kLogin;
  if (name == "logout") inv.command = Command::kLogout;
  if (name == "token") inv.command = Command::kToken;
  if (name == "audit") inv.command = Command::kAudit;
  if (name == "exec") {
    if (!flags.dashdash || flags.trailing.empty()) {
      return Error("auth exec needs a command after --, e.g. datagen auth exec -- env", &command,
                   inv.format);
    }
    inv.command = Command::kExec;
    inv.exec_argv = flags.trailing;
  }
  if (name == "doctor") inv.command = Command::kDoctor;
  if (name == "status") {
    if (flags.has("--watch") && inv.verify) {
      return Error("--verify and --watch do not go together", &command, inv.format);
    }
    inv.command = flags.has("--watch") ? Command::kWatch : Command::kStatus;
  }
  if (name == "agent") {
    if (flags.action.empty()) {
      return Error("auth agent needs one of start, stop, restart or status", &command, inv.format);
    }
    inv.command = flags.action == "start"     ? Command::kAgentStart
                  : flags.action == "stop"    ? Command::kAgentStop
                  : flags.action == "restart" ? Command::kAgentRestart
                                              : Command::kAgentStatus;
  }
  if (name == "org") {
    if (flags.has("--list") == flags.has("--use")) {
      return Error("auth org needs exactly one of --list or --use <slug>", &command, inv.format);
    }
    if (flags.has("--use") && inv.verify) {
      return Error("--verify goes with --list (--use always checks with the server)", &command,
                   inv.format);
    }
    if (flags.has("--use") && flags.has("--org")) {
      return Error("--org goes with --list (--use changes the profile's active organization)",
                   &command, inv.format);
    }
    inv.command = flags.has("--list") ? Command::kOrgList : Command::kOrgUse;
    if (flags.has("--use")) {
      inv.org_slug = flags.given.at("--use");
      // Not a slug at all is a mistake on the command line (exit 2), not an answer of the
      // server's; the agent checks it again.
      if (!IsValidSlug(inv.org_slug)) {
        return Error(absl::StrCat("'", OneLine(inv.org_slug),
                                  "' is not an organization slug (1 to 100 of A-Z a-z 0-9 . _ -)"),
                     &command, inv.format);
      }
    }
  }
  ParseResult result;
  result.ok = true;
  result.invocation = std::move(inv);
  return result;
}

// Levenshtein distance between two short words.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean: auth status?)" for a word close to a command, as git and gh suggest; "".
std::string Suggestion(absl::string_view typed) {
  std::string best;
  size_t best_distance = 3;  // at most two edits away
  for (const CommandSpec& c : Commands()) {
    size_t d = EditDistance(typed, c.name);
    if (d < best_distance) {
      best_distance = d;
      best = c.name;
    }
  }
  return best.empty() ? "" : absl::StrCat(" (did you mean: datagen auth ", best, "?)");
}

// Help that prints `text` and exits 0.
ParseResult PrintAndExit(std::string text, Command command = Command::kHelp) {
  ParseResult result;
  result.ok = true;
  result.invocation.command = command;
  result.invocation.help_text = std::move(text);
  return result;
}

// `datagen completion --help | bash|zsh|fish`.
ParseResult ParseCompletion(const std::vector<std::string>& args) {
  if (args.size() == 2 && IsHelp(args[1])) return PrintAndExit(CompletionHelp());
  std::optional<std::string> script = args.size() == 2 ? CompletionScript(args[1]) : std::nullopt;
  if (!script) {
    ParseResult result;
    result.error = {"datagen completion needs one shell: bash, zsh or fish",
                    "usage: datagen completion bash|zsh|fish", Format::kText};
    return result;
  }
  return PrintAndExit(*script, Command::kCompletion);
}

// `datagen auth help [command]`: that command's help, as `datagen auth <command> --help`.
ParseResult ParseAuthHelp(const std::vector<std::string>& args, Format format) {
  if (args.size() > 3) return Error("auth help takes one command", nullptr, format);
  if (args.size() < 3) return PrintAndExit(HelpText());
  if (const CommandSpec* asked = FindCommand(args[2])) return PrintAndExit(CommandHelp(*asked));
  return Error(absl::StrCat("unknown command: auth ", OneLine(args[2]), Suggestion(args[2])),
               nullptr, format);
}

}  // namespace

std::optional<UsageError> ResolveEnvironment(
    const std::function<std::optional<std::string>(absl::string_view)>& env, Invocation* inv) {
  const CommandSpec* command = nullptr;
  switch (inv->command) {
    case Command::kHelp:
    case Command::kVersion:
    case Command::kCompletion:
    case Command::kAgentStart:
    case Command::kAgentStop:
    case Command::kAgentRestart:
    case Command::kAgentStatus:
    case Command::kAudit:
      return std::nullopt;  // about no session
    default:
      break;
  }
  if (inv->profile.empty() && !inv->all_profiles) {
    if (std::optional<std::string> profile = env("DATAGEN_PROFILE")) {
      if (!IsValidProfileName(*profile)) {
        return UsageError{absl::StrCat("DATAGEN_PROFILE='", OneLine(*profile),
                                       "' is not a profile name (1 to 32 of a-z 0-9 _ -, starting "
                                       "with a letter or digit)"),
                          UsageFor(command), inv->format};
      }
      inv->profile = *std::move(profile);
    }
  }
  // An organization per shell, for the commands that show or use one (org --use sets the
  // stored one, and says when DATAGEN_ORG hides it).
  bool takes_org = inv->command == Command::kStatus || inv->command == Command::kToken ||
                   inv->command == Command::kExec || inv->command == Command::kOrgList;
  if (inv->org.empty() && !inv->all_profiles && takes_org) {
    if (std::optional<std::string> org = env("DATAGEN_ORG")) {
      if (!IsValidSlug(*org)) {
        return UsageError{absl::StrCat("DATAGEN_ORG='", OneLine(*org),
                                       "' is not an organization slug (1 to 100 of A-Z a-z 0-9 . "
                                       "_ -)"),
                          UsageFor(command), inv->format};
      }
      inv->org = *std::move(org);
      inv->org_from = Invocation::OrgFrom::kEnv;
    }
  }
  if (inv->command == Command::kLogin && inv->api_url.empty()) {
    inv->api_url = env("DATAGEN_API_URL").value_or("");
  }
  return std::nullopt;
}

ParseResult ParseArgs(const std::vector<std::string>& args) {
  if (args.empty() || IsHelp(args[0])) return PrintAndExit(HelpText());
  if (args[0] == "--version" || args[0] == "version") {
    return PrintAndExit(absl::StrCat("datagen ", kVersion, "\n"), Command::kVersion);
  }
  if (args[0] == "completion") return ParseCompletion(args);
  const Format format = RequestedFormat(args);
  if (args[0] != "auth") {
    return Error(
        absl::StrCat("unknown command: ", args[0],
                     EditDistance(args[0], "auth") <= 2 ? " (did you mean: datagen auth?)" : ""),
        nullptr, format);
  }
  if (args.size() < 2) return PrintAndExit(HelpText());
  if (IsHelp(args[1])) return ParseAuthHelp(args, format);
  const CommandSpec* command = FindCommand(args[1]);
  if (command == nullptr) {
    return Error(absl::StrCat("unknown command: auth ", args[1], Suggestion(args[1])), nullptr,
                 format);
  }
  Invocation inv;
  inv.format = format;
  Flags flags;
  bool asked_help = false;
  if (ParseResult read = ReadFlags(args, *command, inv.format, &flags, &asked_help); !read.ok) {
    return read;
  }
  if (asked_help) return PrintAndExit(CommandHelp(*command));
  if (flags.has("--format")) {
    const std::string& value = flags.given.at("--format");
    if (value != "text" && value != "json") {
      return Error(absl::StrCat("--format must be text or json, not ", value), command, inv.format);
    }
    inv.format = value == "json" ? Format::kJson : Format::kText;
  }
  return Resolve(*command, flags, std::move(inv));
}

}  // namespace datagen::cli
