#include "client/command_table.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace datagen::cli {

const std::vector<FlagSpec>& CommonFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"--format", true, "--format needs a value: text or json",
       "text (default), or json: a JSON object per reply on stdout"},
      {"--no-autostart", false, "",
       "start no datagen-agent when none runs (or DATAGEN_NO_AUTOSTART=1)"},
  };
  return *flags;
}

namespace {

// Which profile a command is about (agent.proto "Profiles"), and the organization in effect.
FlagSpec ProfileFlag() {
  return {"--profile", true, "--profile needs a profile name",
          "the profile (else $DATAGEN_PROFILE, else default)", "<name>"};
}
FlagSpec MinValidFlag() {
  return {"--min-valid", true, "--min-valid needs a duration (e.g. 10m, 90s, 1h)",
          "refresh first unless the token stays valid this long (e.g. 10m)", "<duration>"};
}
FlagSpec OrgFlag() {
  return {"--org", true, "--org needs an organization slug",
          "the organization for this command only (else $DATAGEN_ORG, else the active one)"};
}

// Signing in and out, and what the session is: login, logout, status, token.
std::vector<CommandSpec> SessionCommands() {
  return {
      {"login",
       {{"--no-browser", false, "", "print the code and the page only; open no browser"},
        {"--api-url", true, "--api-url needs the identity server's URL",
         "sign in at this identity server (else $DATAGEN_API_URL, else the profile's)", "<url>"},
        ProfileFlag()},
       "login [--format text|json] [--no-browser] [--profile <name>] [--api-url <url>]",
       {"login   [--format text|json] [--no-browser] [--profile <name>] [--api-url <url>]"},
       {},
       {"Signs in with the OAuth device flow: prints a one-time code and the page to enter it on",
        "(opened in a browser when there is one), waits until it is approved, then stores the",
        "session for the agent. Logins from several terminals share one code. Ctrl-C stops",
        "waiting (exit 130). Signing in while signed in replaces the session and revokes the old",
        "token. A profile keeps the identity server it signed in at."},
       {"datagen auth login", "datagen auth login --no-browser", "datagen auth login --format json",
        "datagen auth login --profile staging --api-url https://staging.datagen.example"}},
      {"logout",
       {ProfileFlag(), {"--all", false, "", "every profile"}},
       "logout [--format text|json] [--profile <name> | --all]",
       {"logout  [--format text|json] [--profile <name> | --all]"},
       {},
       {"Deletes the stored session and revokes its token at the identity server (retried in the",
        "background until the server accepts, when it cannot be reached now). Signed out already,",
        "it says so and exits 0. Other profiles stay signed in, unless --all."},
       {"datagen auth logout", "datagen auth logout --format json",
        "datagen auth logout --profile staging", "datagen auth logout --all"}},
      {"status",
       {{"--verify", false, "", "ask the identity server now instead of answering from memory"},
        {"--watch", false, "",
         "a line (JSON: an object) per change until Ctrl-C; follows the agent"},
        ProfileFlag(),
        OrgFlag(),
        {"--all", false, "", "every profile: its user, issuer, organization and state"}},
       "status [--format text|json] [--verify | --watch] [--profile <name> | --all] [--org <slug>]",
       {"status  [--format text|json] [--verify | --watch] [--profile <name> | --all]",
        "        [--org <slug>]"},
       {},
       {"Shows who is signed in, the active organization and your role in it. It never waits on",
        "the network: the agent answers from memory, with a warning when the server has not",
        "confirmed the session within the last minute. Not signed in is exit 4, and says so with",
        "the code of a login that waits for approval, if one does."},
       {"datagen auth status", "datagen auth status --verify", "datagen auth status --format json",
        "datagen auth status --watch --format json", "datagen auth status --all",
        "datagen auth status --profile staging --org acme"}},
      {"token",
       {ProfileFlag(), OrgFlag(), MinValidFlag()},
       "token [--format text|json] [--profile <name>] [--org <slug>] [--min-valid <duration>]",
       {"token   [--format text|json] [--profile <name>] [--org <slug>] [--min-valid <duration>]"
        "   (for scripts)"},
       {},
       {"Prints the access token (refreshed first when it is about to expire, or when it would",
        "expire within --min-valid), for scripts and tools that call the datagen API. JSON adds",
        "token_type, expires_at, the identity server (api_url), the organization and its source,",
        "the profile and the email. Keep it out of logs and shell history."},
       {"datagen auth token", "datagen auth token --format json",
        "datagen auth token --profile staging", "datagen auth token --min-valid 10m"}},
      {"exec",
       {ProfileFlag(), OrgFlag(), MinValidFlag()},
       "exec [--profile <name>] [--org <slug>] [--min-valid <duration>] -- <command> [args...]",
       {"exec    [--profile <name>] [--org <slug>] [--min-valid <duration>] -- <command> "
        "[args...]"},
       {},
       {"Runs a command with DATAGEN_TOKEN, DATAGEN_API_URL, DATAGEN_ORG and DATAGEN_PROFILE set",
        "(never the refresh token; nothing else in the environment changes), passes it SIGINT,",
        "SIGTERM, SIGHUP and SIGQUIT, and exits with its status (128+N when signal N ended it;",
        "126 or 127 when it cannot be run, as shells do). A command that outlives its token runs",
        "`datagen auth token` again: it inherits the profile and the organization."},
       {"datagen auth exec -- env", "datagen auth exec --profile staging -- ./upload.sh",
        "datagen auth exec --min-valid 30m -- python3 train.py"}},
      {"audit",
       {},
       "audit [--format text|json]",
       {"audit   [--format text|json]   (who took a token)"},
       {},
       {"Lists the agent's last 1,000 token hand-outs, newest first: when, which profile, and",
        "the process that asked (pid, executable, and its parent), never the token. A process",
        "whose executable changed since it started is marked."},
       {"datagen auth audit", "datagen auth audit --format json"}},
  };
}

// Its organization, its health and the agent behind it: doctor, org, agent.
std::vector<CommandSpec> MoreCommands() {
  return {
      {"doctor",
       {ProfileFlag()},
       "doctor [--format text|json] [--profile <name>]",
       {"doctor  [--format text|json]   (checks the agent, files and server; says what to fix)"},
       {},
       {"Checks the socket folder, the credentials file, the agent and its settings, the identity",
        "server (discovery, clock), pending revocations, proxy and systemd units, and prints a",
        "verdict per check with the fix. Exit 0 when every check is ok, else 1."},
       {"datagen auth doctor", "datagen auth doctor --format json"}},
      {"org",
       {{"--list", false, "", "list your organizations, the active one marked"},
        {"--use", true, "--use needs an organization slug",
         "make <slug> the active organization (the server confirms it)"},
        {"--verify", false, "", "with --list: ask the identity server now"},
        ProfileFlag(),
        OrgFlag()},
       "org (--list [--verify] [--org <slug>] | --use <slug>) [--profile <name>] "
       "[--format text|json]",
       {"org --list        [--format text|json] [--verify] [--profile <name>] [--org <slug>]",
        "org --use <slug>  [--format text|json] [--profile <name>]"},
       {},
       {"Lists the organizations you belong to, or switches the active one. A slug is 1 to 100",
        "of A-Z a-z 0-9 . _ -."},
       {"datagen auth org --list", "datagen auth org --list --verify",
        "datagen auth org --use test-org", "datagen auth org --list --format json",
        "datagen auth org --use test-org --profile staging"}},
      {"agent",
       {},
       "agent start|stop|restart|status [--format text|json]",
       {"agent start|stop|restart|status   (starts the agent with this shell's settings; stops",
        "                                it, as SIGTERM does; restarts it; or shows it)"},
       {"start", "stop", "restart", "status"},
       {"Manages datagen-agent, the per-user process that holds the session (any command starts",
        "it on demand). A running agent keeps the settings it started with (DATAGEN_API_URL, the",
        "credentials folder): restart applies this shell's. stop lets it finish what it must",
        "(like SIGTERM); the session stays stored. status never starts one."},
       {"datagen auth agent status", "datagen auth agent restart", "datagen auth agent stop",
        "datagen auth agent start --format json"}},
  };
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = [] {
    auto* all = new std::vector<CommandSpec>(SessionCommands());
    for (CommandSpec& more : MoreCommands()) all->push_back(std::move(more));
    return all;
  }();
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

namespace {

constexpr char kExitCodes[] =
    "exit codes: 0 ok, 1 error, 2 usage error, 4 not signed in or session expired,\n"
    "            130 interrupted (Ctrl-C)\n";

// "  --use <slug>       what it does" lines, aligned.
void AppendFlags(const std::vector<FlagSpec>& flags, std::string* out) {
  for (const FlagSpec& flag : flags) {
    std::string name = flag.name;
    if (flag.takes_value) name += flag.name == "--format" ? " text|json" : " " + flag.value;
    absl::StrAppend(out, "  ", name, std::string(name.size() < 20 ? 20 - name.size() : 1, ' '),
                    flag.help, "\n");
  }
}

}  // namespace

std::string CommandHelp(const CommandSpec& command) {
  std::string help = absl::StrCat(UsageFor(&command), "\n\n");
  for (const std::string& line : command.description) absl::StrAppend(&help, line, "\n");
  if (!command.flags.empty()) {
    absl::StrAppend(&help, "\nflags:\n");
    AppendFlags(command.flags, &help);
  }
  absl::StrAppend(&help, "\ncommon flags:\n");
  AppendFlags(CommonFlags(), &help);
  absl::StrAppend(&help, "\nexamples:\n");
  for (const std::string& example : command.examples) absl::StrAppend(&help, "  ", example, "\n");
  absl::StrAppend(&help, "\n", kExitCodes, "see also: datagen auth --help, man datagen-auth\n");
  return help;
}

std::string CompletionHelp() {
  return "usage: datagen completion bash|zsh|fish\n"
         "\n"
         "Prints a completion script for that shell: the commands, their flags and the agent's\n"
         "actions.\n"
         "\n"
         "examples:\n"
         "  source <(datagen completion bash)\n"
         "  datagen completion zsh > \"${fpath[1]}/_datagen\"\n"
         "  datagen completion fish > ~/.config/fish/completions/datagen.fish\n"
         "\n"
         "tools/install puts all three where the shells look (see man datagen-auth).\n";
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
      "profiles: --profile <name> (else $DATAGEN_PROFILE, else default) picks one of several\n"
      "sessions, each with its own identity server; --org <slug> (else $DATAGEN_ORG, else the\n"
      "profile's active one) scopes one command or, exported, one shell, and changes no file.\n"
      "\n"
      "common flags:\n"
      "  --format text|json  output format (default text)\n"
      "  --no-autostart      do not start datagen-agent when none is running\n"
      "                      (also DATAGEN_NO_AUTOSTART=1)\n"
      "\n",
      kExitCodes,
      "\n"
      "datagen auth <command> --help (or datagen auth help <command>) explains one command;\n"
      "man datagen-auth has it all.\n");
  return help;
}

}  // namespace datagen::cli
