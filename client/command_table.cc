#include "client/command_table.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace datagen::cli {

const std::vector<FlagSpec>& CommonFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"--format", true, "--format needs a value: text or json"},
      {"--no-autostart", false, ""},
  };
  return *flags;
}

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>{
      {"login",
       {{"--no-browser", false, ""}},
       "login [--format text|json] [--no-browser]",
       {"login   [--format text|json] [--no-browser]"}},
      {"logout", {}, "logout [--format text|json]", {"logout  [--format text|json]"}},
      {"status",
       {{"--verify", false, ""}, {"--watch", false, ""}},
       "status [--format text|json] [--verify | --watch]",
       {"status  [--format text|json] [--verify | --watch]"}},
      {"token",
       {},
       "token [--format text|json]",
       {"token   [--format text|json]   (prints the access token, for scripts)"}},
      {"doctor",
       {},
       "doctor [--format text|json]",
       {"doctor  [--format text|json]   (checks the agent, files and server; says what to fix)"}},
      {"org",
       {{"--list", false, ""},
        {"--use", true, "--use needs an organization slug"},
        {"--verify", false, ""}},
       "org (--list [--verify] | --use <slug>) [--format text|json]",
       {"org --list        [--format text|json] [--verify]",
        "org --use <slug>  [--format text|json]"}},
      {"agent",
       {},
       "agent stop|restart|status [--format text|json]",
       {"agent stop|restart|status   (stops the agent, as SIGTERM does; restarts it with this",
        "                                shell's settings; or shows it)"},
       {"stop", "restart", "status"}},
  };
  return *commands;
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

const FlagSpec* FindFlag(const CommandSpec& command, const std::string& name) {
  for (const auto* flags : {&CommonFlags(), &command.flags}) {
    for (const FlagSpec& flag : *flags) {
      if (flag.name == name) return &flag;
    }
  }
  return nullptr;
}

std::string UsageFor(const CommandSpec* command) {
  if (command == nullptr) {
    std::vector<std::string> names;
    for (const CommandSpec& c : Commands()) names.push_back(c.name);
    return absl::StrCat("usage: datagen auth <", absl::StrJoin(names, "|"),
                        "> [--format text|json]");
  }
  return absl::StrCat("usage: datagen auth ", command->synopsis);
}

std::string HelpText() {
  std::string help =
      "Sign in via device flow, switch organizations, and check your session.\n"
      "\n"
      "usage:\n";
  for (const CommandSpec& command : Commands()) {
    for (const std::string& line : command.help_lines) {
      absl::StrAppend(&help, "  datagen auth ", line, "\n");
    }
  }
  absl::StrAppend(
      &help,
      "\n"
      "status and org --list never wait on the network: they answer from the agent's memory,\n"
      "with a warning when the server has not confirmed the session within the last minute\n"
      "(the agent asks it again in the background); --verify asks the server now.\n"
      "\n"
      "datagen --version prints the version (datagen-agent --version prints the agent's);\n"
      "datagen completion bash|zsh|fish prints a completion script for that shell.\n"
      "\n"
      "common flags:\n"
      "  --format text|json  output format (default text)\n"
      "  --no-autostart      do not start datagen-agent when none is running\n"
      "                      (also DATAGEN_NO_AUTOSTART=1)\n"
      "\n"
      "exit codes: 0 ok, 1 error, 2 usage error, 4 not signed in or session expired,\n"
      "            130 interrupted (Ctrl-C)\n");
  return help;
}

}  // namespace datagen::cli
