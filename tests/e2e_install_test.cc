// tools/install as a user runs it: installed under a prefix, the product works with only
// PREFIX/bin on PATH (the agent found beside the CLI, its helper in libexec), the man pages
// render, bash, zsh and fish complete from the installed scripts, and --uninstall leaves nothing
// it made.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Every file and folder under `dir`, relative to it.
std::vector<std::string> Tree(const std::string& dir) {
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    entries.push_back(entry.path().string().substr(dir.size()));
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

TEST(E2eInstall, InstalledUnderAPrefixItWorksFromThereAndUninstallsCleanly) {
  E2eEnv env;
  std::string built = env.dir() + "/built", prefix = env.dir() + "/prefix";
  ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", built, prefix + "/share/mine"}, {}).exit_code, 0);
  WriteFile(prefix + "/share/mine/keep.txt", "the user's own");
  ASSERT_EQ(RunProcess({"/bin/cp", E2eEnv::DatagenBinary(), E2eEnv::AgentBinary(),
                        E2eEnv::AgentBinary() + "-http", built},
                       {})
                .exit_code,
            0);
  std::vector<std::string> before = Tree(prefix);
  RunResult installed =
      RunProcess({"/bin/bash", Runfile("tools/install"), "--prefix=" + prefix, "--from=" + built},
                 {"PATH=/usr/bin:/bin", "HOME=" + env.dir()});
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  EXPECT_THAT(installed.out, HasSubstr("installed under " + prefix));
  // Issue 22: under a prefix that the shells and man do not search, it says what to add.
  EXPECT_THAT(installed.out, HasSubstr("add to your shell's rc file:\n  export PATH=\"" + prefix +
                                       "/bin:$PATH\"\n"));
  EXPECT_THAT(installed.out,
              HasSubstr("  # bash: . " + prefix + "/share/bash-completion/completions/datagen\n"));
  EXPECT_THAT(installed.out, HasSubstr("  # zsh, before compinit: fpath=(" + prefix +
                                       "/share/zsh/vendor-completions $fpath)\n"));
  // man finds <dir>/share/man for a <dir>/bin on PATH: no MANPATH line is needed for it.
  RunResult found = RunProcess({"/usr/bin/man", "-w", "datagen-auth"},
                               {"PATH=" + prefix + "/bin:/usr/bin:/bin", "HOME=" + env.dir()});
  EXPECT_EQ(found.out, prefix + "/share/man/man1/datagen-auth.1\n") << found.err;
  struct stat st;
  EXPECT_EQ(stat((prefix + "/libexec/datagen/datagen-agent-http").c_str(), &st), 0);

  // Only PREFIX/bin on PATH: the agent is started from beside the CLI, its helper found in
  // PREFIX/libexec/datagen.
  std::vector<std::string> only_prefix = {"PATH=" + prefix + "/bin"};
  ASSERT_EQ(env.AdminPost("/_admin/config", "auto_approve_after=0"), 200);
  RunResult login =
      env.RunCommand({prefix + "/bin/datagen", "auth", "login", "--no-browser"}, only_prefix);
  ASSERT_EQ(login.exit_code, 0) << login.err << env.AgentLog();
  RunResult status = env.RunCommand({prefix + "/bin/datagen", "auth", "status"}, only_prefix);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("email:"));
  RunResult use =
      env.RunCommand({prefix + "/bin/datagen", "auth", "org", "--use", "test-org"}, only_prefix);
  EXPECT_EQ(use.exit_code, 0) << use.err;
  RunResult logout = env.RunCommand({prefix + "/bin/datagen", "auth", "logout"}, only_prefix);
  EXPECT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_THAT(logout.err, IsEmpty()) << "revoked at the server: no warning";
  EXPECT_THAT(env.AgentLog(), Not(HasSubstr("HTTP helper"))) << env.AgentLog();

  // The man pages render, and each shell completes `datagen auth o<TAB>` from its installed
  // script.
  for (const char* page : {"/share/man/man1/datagen-auth.1", "/share/man/man1/datagen-agent.1"}) {
    RunResult man = RunProcess({"/usr/bin/man", "-l", prefix + page},
                               {"PATH=/usr/bin:/bin", "MANPAGER=cat", "TERM=dumb"});
    EXPECT_EQ(man.exit_code, 0) << page << man.err;
    EXPECT_THAT(man.out, HasSubstr("0.9")) << page;
  }
  RunResult completes =
      RunProcess({"/bin/bash", "-c",
                  "source \"$1\"; COMP_WORDS=(datagen auth o); COMP_CWORD=2; _datagen; "
                  "echo \"${COMPREPLY[*]}\"",
                  "-", prefix + "/share/bash-completion/completions/datagen"},
                 {"PATH=/usr/bin:/bin"});
  EXPECT_EQ(completes.out, "org\n");
  // zsh: TAB in a real interactive zsh (compinit) with the installed folder on $fpath.
  RunResult zsh = RunProcess({"/usr/bin/zsh", "-f", Runfile("tests/testing/zsh_complete.zsh"),
                              prefix + "/share/zsh/vendor-completions", "datagen auth o"},
                             {"PATH=/usr/bin:/bin", "HOME=" + env.dir()});
  EXPECT_EQ(zsh.out, "auth org\n") << zsh.err;
  // fish: its own completion engine, loading the installed file the way fish finds a
  // package's completions (XDG_DATA_DIRS/fish/vendor_completions.d) for `datagen` on PATH.
  RunResult fish = RunProcess({"/usr/bin/fish", "-c", "complete -C 'datagen auth o'"},
                              {"PATH=" + prefix + "/bin:/usr/bin:/bin", "HOME=" + env.dir(),
                               "XDG_DATA_DIRS=" + prefix + "/share"});
  EXPECT_EQ(fish.out, "org\n") << fish.err;
  // --profile completes the profiles on disk, in each shell.
  ASSERT_EQ(
      RunProcess({"/bin/mkdir", "-p", env.dir() + "/.config/datagen/profiles/work"}, {}).exit_code,
      0);
  zsh = RunProcess({"/usr/bin/zsh", "-f", Runfile("tests/testing/zsh_complete.zsh"),
                    prefix + "/share/zsh/vendor-completions", "datagen auth status --profile w"},
                   {"PATH=/usr/bin:/bin", "HOME=" + env.dir()});
  EXPECT_EQ(zsh.out, "auth status --profile work\n") << zsh.err;
  fish = RunProcess({"/usr/bin/fish", "-c", "complete -C 'datagen auth status --profile w'"},
                    {"PATH=" + prefix + "/bin:/usr/bin:/bin", "HOME=" + env.dir(),
                     "XDG_DATA_DIRS=" + prefix + "/share"});
  EXPECT_EQ(fish.out, "work\n") << fish.err;

  env.StopAgent();
  RunResult removed =
      RunProcess({"/bin/bash", Runfile("tools/install"), "--prefix=" + prefix, "--uninstall"},
                 {"PATH=/usr/bin:/bin", "HOME=" + env.dir()});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(Tree(prefix), before) << "only what was there before remains";
  EXPECT_EQ(ReadFile(prefix + "/share/mine/keep.txt"), "the user's own");
}

// Issue 22, bug 6: two installs into one prefix (README's upgrade path), then --uninstall, left
// 15 empty folders: the second install's manifest forgot the folders the first one created.
TEST(E2eInstall, AnUpgradeInPlaceThenUninstallLeavesNothing) {
  E2eEnv env;
  std::string built = env.dir() + "/built", prefix = env.dir() + "/prefix";
  ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", built, prefix}, {}).exit_code, 0);
  ASSERT_EQ(RunProcess({"/bin/cp", E2eEnv::DatagenBinary(), E2eEnv::AgentBinary(),
                        E2eEnv::AgentBinary() + "-http", built},
                       {})
                .exit_code,
            0);
  const std::vector<std::string> environment = {"PATH=/usr/bin:/bin", "HOME=" + env.dir()};
  for (int round = 0; round < 2; ++round) {
    RunResult installed =
        RunProcess({"/bin/bash", Runfile("tools/install"), "--prefix=" + prefix, "--from=" + built},
                   environment);
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  }
  RunResult removed = RunProcess(
      {"/bin/bash", Runfile("tools/install"), "--prefix=" + prefix, "--uninstall"}, environment);
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_THAT(Tree(prefix), ::testing::IsEmpty()) << "empty folders left behind";
}

}  // namespace
}  // namespace datagen::testing
