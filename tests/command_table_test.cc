// The command table is the one source of the CLI's commands: every command and flag in it
// parses, and --help and the usage lines come from it.
#include "client/command_table.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/cli_args.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace datagen::cli {
namespace {

using ::testing::HasSubstr;

TEST(CommandTableTest, HelpListsEveryCommandsLines) {
  std::string help = HelpText();
  for (const CommandSpec& command : Commands()) {
    for (const std::string& line : command.help_lines) {
      EXPECT_THAT(help, HasSubstr("datagen auth " + line)) << command.name;
    }
  }
  EXPECT_EQ(ParseArgs({"auth", "--help"}).invocation.help_text, help);
}

TEST(CommandTableTest, EveryFlagOfEveryCommandIsAccepted) {
  for (const CommandSpec& command : Commands()) {
    for (const auto* flags : {&CommonFlags(), &command.flags}) {
      for (const FlagSpec& flag : *flags) {
        std::vector<std::string> args = {"auth", command.name, flag.name};
        // A command that takes an argument gets its first one.
        if (!command.actions.empty()) args.insert(args.begin() + 2, command.actions[0]);
        if (flag.takes_value) {
          args.push_back(flag.name == "--format"      ? "json"
                         : flag.name == "--min-valid" ? "10m"
                                                      : "some-org");
        }
        // exec needs its command.
        if (command.name == "exec") args.insert(args.end(), {"--", "true"});
        // org needs one of --list / --use: give --list unless the flag is --use.
        if (command.name == "org" && flag.name != "--use" && flag.name != "--list") {
          args.push_back("--list");
        }
        ParseResult parsed = ParseArgs(args);
        EXPECT_TRUE(parsed.ok) << absl::StrJoin(args, " ") << ": " << parsed.error.message;
      }
    }
  }
}

TEST(CommandTableTest, AFlagOfAnotherCommandIsAUsageErrorWithThisCommandsUsage) {
  ParseResult parsed = ParseArgs({"auth", "logout", "--no-browser"});
  ASSERT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.error.message, "unknown flag for auth logout: --no-browser");
  EXPECT_EQ(parsed.error.usage, UsageFor(FindCommand("logout")));
  EXPECT_EQ(UsageFor(FindCommand("logout")),
            "usage: datagen auth logout [--format text|json] [--profile <name> | --all]");
  EXPECT_EQ(UsageFor(nullptr),
            "usage: datagen auth <login|logout|status|token|exec|audit|doctor|org|agent> [--format "
            "text|json]");
}

// Issue 22: a command's --help says what it does, with its flags and examples, and each example
// is a command line the parser takes, for that very command.
TEST(CommandTableTest, ACommandsHelpExplainsItWithExamplesThatParse) {
  for (const CommandSpec& command : Commands()) {
    ParseResult parsed = ParseArgs({"auth", command.name, "--help"});
    ASSERT_TRUE(parsed.ok) << command.name;
    EXPECT_EQ(parsed.invocation.command, Command::kHelp);
    const std::string& help = parsed.invocation.help_text;
    EXPECT_EQ(help, CommandHelp(command));
    EXPECT_THAT(help, ::testing::StartsWith(UsageFor(&command) + "\n"));
    ASSERT_FALSE(command.description.empty()) << command.name;
    EXPECT_THAT(help, HasSubstr(command.description[0])) << command.name;
    for (const auto* flags : {&CommonFlags(), &command.flags}) {
      for (const FlagSpec& flag : *flags) {
        EXPECT_FALSE(flag.help.empty()) << command.name << " " << flag.name;
        EXPECT_THAT(help, HasSubstr(flag.help)) << command.name << " " << flag.name;
      }
    }
    ASSERT_FALSE(command.examples.empty()) << command.name;
    for (const std::string& example : command.examples) {
      EXPECT_THAT(help, HasSubstr("  " + example + "\n"));
      std::vector<std::string> words = absl::StrSplit(example, ' ');
      ASSERT_GE(words.size(), 3u) << example;
      ASSERT_EQ(words[0], "datagen") << example;
      ASSERT_EQ(words[2], command.name) << example;
      ParseResult example_parsed = ParseArgs({words.begin() + 1, words.end()});
      EXPECT_TRUE(example_parsed.ok) << example << ": " << example_parsed.error.message;
      EXPECT_NE(example_parsed.invocation.command, Command::kHelp) << example;
    }
    // `datagen auth help <command>` is the same text.
    EXPECT_EQ(ParseArgs({"auth", "help", command.name}).invocation.help_text, help);
  }
  ParseResult unknown = ParseArgs({"auth", "help", "statsu"});
  ASSERT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.error.message,
            "unknown command: auth statsu (did you mean: datagen auth status?)");
}

TEST(CommandTableTest, CompletionHasItsOwnHelp) {
  for (const char* asked : {"--help", "-h", "help"}) {
    ParseResult parsed = ParseArgs({"completion", asked});
    ASSERT_TRUE(parsed.ok) << asked;
    EXPECT_EQ(parsed.invocation.help_text, CompletionHelp());
  }
  EXPECT_THAT(CompletionHelp(), ::testing::StartsWith("usage: datagen completion bash|zsh|fish\n"));
}

}  // namespace
}  // namespace datagen::cli
