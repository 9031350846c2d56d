// The CLI's commands, written once: each command's name, its flags, its usage line and its
// lines in --help. Parsing (cli_args), usage errors and --help all come from this table.
#ifndef DATAGEN_CLIENT_COMMAND_TABLE_H_
#define DATAGEN_CLIENT_COMMAND_TABLE_H_

#include <string>
#include <vector>

namespace datagen::cli {

struct FlagSpec {
  std::string name;           // "--use"
  bool takes_value = false;   // "--use <slug>" or "--use=<slug>"
  std::string missing_value;  // the usage error when the value is missing
  std::string help = "";      // what it does, for the command's --help ("--use <slug>  ...")
  std::string value = "<slug>";  // what its value is called in --help
};

struct CommandSpec {
  std::string name;                     // "org", as in `datagen auth org`
  std::vector<FlagSpec> flags;          // besides the common ones (kCommonFlags)
  std::string synopsis;                 // after "usage: datagen auth "
  std::vector<std::string> help_lines;  // after "  datagen auth " in --help
  // The words the command takes as its one argument ("stop" in `datagen auth agent stop`);
  // empty: it takes none.
  std::vector<std::string> actions = {};
  // The command's own --help (`datagen auth <command> --help`, `datagen auth help <command>`):
  // what it does, in a few lines, and command lines to copy (each one parses: a test runs them
  // through ParseArgs).
  std::vector<std::string> description = {};
  std::vector<std::string> examples = {};
};

// Flags every command takes.
const std::vector<FlagSpec>& CommonFlags();
// Every command, in the order --help lists them.
const std::vector<CommandSpec>& Commands();
// The command called `name`, or nullptr.
const CommandSpec* FindCommand(const std::string& name);
// The flag called `name` that `command` takes (its own or a common one), or nullptr.
const FlagSpec* FindFlag(const CommandSpec& command, const std::string& name);

// "usage: datagen auth ..." for `command`, or the top-level usage when it is null.
std::string UsageFor(const CommandSpec* command);
// The whole --help text.
std::string HelpText();
// One command's --help: usage, what it does, its flags and the common ones, examples, exit codes.
std::string CommandHelp(const CommandSpec& command);
// `datagen completion --help`.
std::string CompletionHelp();

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_COMMAND_TABLE_H_
