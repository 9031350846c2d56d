// The completion scripts come from the command table and work in their shells.
#include "client/completion.h"

#include "absl/strings/str_cat.h"
#include "client/command_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace datagen::cli {
namespace {

using ::testing::HasSubstr;

// What bash completes for the words of `line` (the last one being completed).
std::string BashCompletes(const std::string& script_path, const std::string& words, int cword,
                          const std::string& home = "/nonexistent") {
  testing::RunResult r = testing::RunProcess(
      {"/bin/bash", "-c",
       absl::StrCat("source ", script_path, "; COMP_WORDS=(", words, "); COMP_CWORD=", cword,
                    "; _datagen; echo \"${COMPREPLY[*]}\"")},
      {"PATH=/usr/bin:/bin", "HOME=" + home});
  return r.out;
}

TEST(CompletionTest, BashCompletesCommandsFlagsAndValuesFromTheTable) {
  testing::TempDir dir;
  std::string script = dir.path() + "/datagen.bash";
  testing::WriteFile(script, *CompletionScript("bash"));
  EXPECT_EQ(BashCompletes(script, "datagen a", 1), "auth\n");
  EXPECT_EQ(BashCompletes(script, "datagen auth o", 2), "org\n");
  EXPECT_EQ(BashCompletes(script, "datagen auth org --l", 3), "--list\n");
  EXPECT_EQ(BashCompletes(script, "datagen auth status --format ''", 4), "text json\n");
  for (const CommandSpec& command : Commands()) {
    std::string flags = BashCompletes(script, "datagen auth " + command.name + " --", 3);
    for (const FlagSpec& flag : command.flags) EXPECT_THAT(flags, HasSubstr(flag.name));
  }
}

// `--profile` completes the profiles on disk (their folders), read by the shell itself.
TEST(CompletionTest, BashCompletesProfileNamesFromTheirFolders) {
  testing::TempDir dir;
  std::string script = dir.path() + "/datagen.bash";
  testing::WriteFile(script, *CompletionScript("bash"));
  EXPECT_EQ(BashCompletes(script, "datagen auth status --profile ''", 4, dir.path()), "default\n");
  const std::string profiles = dir.path() + "/.config/datagen/profiles";
  for (const char* name : {"work", "home"}) {
    ASSERT_EQ(testing::RunProcess({"/bin/mkdir", "-p", profiles + "/" + name}, {}).exit_code, 0);
  }
  testing::WriteFile(profiles + "/stray-file", "not a profile");
  EXPECT_EQ(BashCompletes(script, "datagen auth status --profile ''", 4, dir.path()),
            "default home work\n");
  EXPECT_EQ(BashCompletes(script, "datagen auth token --profile w", 4, dir.path()), "work\n");
}

TEST(CompletionTest, ZshAndFishScriptsNameEveryCommand) {
  testing::TempDir dir;
  std::string zsh = dir.path() + "/_datagen";
  testing::WriteFile(zsh, *CompletionScript("zsh"));
  EXPECT_EQ(testing::RunProcess({"/usr/bin/zsh", "-n", zsh}, {}).exit_code, 0) << "zsh syntax";
  for (const CommandSpec& command : Commands()) {
    EXPECT_THAT(*CompletionScript("zsh"), HasSubstr(command.name));
    EXPECT_THAT(*CompletionScript("fish"), HasSubstr(command.name));
  }
  EXPECT_FALSE(CompletionScript("tcsh").has_value());
}

}  // namespace
}  // namespace datagen::cli
