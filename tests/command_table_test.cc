// The command table is the one source of the CLI's commands: every command and flag in it
// parses, and --help and the usage lines come from it.
#include "client/command_table.h"

#include "absl/strings/str_join.h"
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
        if (flag.takes_value) args.push_back(flag.name == "--format" ? "json" : "some-org");
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
  EXPECT_EQ(UsageFor(FindCommand("logout")), "usage: datagen auth logout [--format text|json]");
  EXPECT_EQ(UsageFor(nullptr),
            "usage: datagen auth <login|logout|status|token|doctor|org|agent> [--format text|json]");
}

TEST(CommandTableTest, ACommandsHelpIsItsUsage) {
  for (const CommandSpec& command : Commands()) {
    ParseResult parsed = ParseArgs({"auth", command.name, "--help"});
    ASSERT_TRUE(parsed.ok) << command.name;
    EXPECT_EQ(parsed.invocation.command, Command::kHelp);
    EXPECT_EQ(parsed.invocation.help_text, UsageFor(&command) + "\n");
  }
}

}  // namespace
}  // namespace datagen::cli
