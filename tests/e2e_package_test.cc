// tools/package builds a Debian package that lintian accepts, with every file where Debian wants
// it. (Installing it with apt changes the machine, so that step is shown by hand: see README.)
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(E2ePackage, TheDebPassesLintianAndHoldsEachFileInItsDebianPlace) {
  E2eEnv env;
  std::string built = env.dir() + "/built", out = env.dir() + "/out";
  ASSERT_EQ(RunProcess({"/bin/mkdir", "-p", built, out}, {}).exit_code, 0);
  ASSERT_EQ(RunProcess({"/bin/cp", E2eEnv::DatagenBinary(), E2eEnv::AgentBinary(),
                        E2eEnv::AgentBinary() + "-http", built},
                       {})
                .exit_code,
            0);
  std::vector<std::string> path = {"PATH=/usr/bin:/bin", "HOME=" + env.dir()};
  // Building the package and running lintian over it is fixed work whose time grows with the
  // machine's load (18 to 84 s seen on two cores; more under ASan beside a CPU hog): the limit
  // is the test's whole budget, not a guess at a speed.
  RunResult packaged =
      RunProcess({"/bin/bash", Runfile("tools/package"), "--from=" + built, "--out=" + out}, path,
                 absl::Minutes(12));
  ASSERT_EQ(packaged.exit_code, 0) << packaged.err;
  std::string version(absl::StripAsciiWhitespace(ReadFile(Runfile("VERSION"))));
  std::string deb = out + "/datagen_" + version + "_amd64.deb";
  EXPECT_EQ(std::string(absl::StripAsciiWhitespace(packaged.out)), deb);

  RunResult contents = RunProcess({"/usr/bin/dpkg-deb", "--contents", deb}, path);
  ASSERT_EQ(contents.exit_code, 0) << contents.err;
  for (const char* file :
       {"./usr/bin/datagen", "./usr/bin/datagen-agent", "./usr/libexec/datagen/datagen-agent-http",
        "./usr/lib/systemd/user/datagen-agent.service",
        "./usr/lib/systemd/user/datagen-agent.socket",
        "./usr/share/bash-completion/completions/datagen",
        "./usr/share/zsh/vendor-completions/_datagen",
        "./usr/share/fish/vendor_completions.d/datagen.fish",
        "./usr/share/man/man1/datagen-auth.1.gz", "./usr/share/man/man1/datagen-agent.1.gz",
        "./usr/share/doc/datagen/copyright", "./usr/share/doc/datagen/changelog.gz"}) {
    EXPECT_THAT(contents.out, HasSubstr(std::string(file) + "\n")) << file;
  }
  EXPECT_THAT(contents.out, HasSubstr("root/root")) << "owned by root in the package";
  EXPECT_THAT(contents.out, Not(HasSubstr("install-manifest")));
  RunResult unit = RunProcess(
      {"/bin/sh", "-c",
       "dpkg-deb --fsys-tarfile \"$1\" | tar -xO ./usr/lib/systemd/user/datagen-agent.service", "-",
       deb},
      path);
  EXPECT_THAT(unit.out, HasSubstr("ExecStart=/usr/bin/datagen-agent "));

  RunResult control = RunProcess({"/usr/bin/dpkg-deb", "--field", deb, "Package", "Version"}, path);
  EXPECT_EQ(control.out, absl::StrCat("Package: datagen\nVersion: ", version, "\n"));
  RunResult lintian =
      RunProcess({"/usr/bin/lintian", "--fail-on", "error", deb}, path, absl::Seconds(120));
  EXPECT_EQ(lintian.exit_code, 0) << lintian.out << lintian.err;
  EXPECT_THAT(lintian.out, Not(HasSubstr("E: "))) << lintian.out;
}

}  // namespace
}  // namespace datagen::testing
