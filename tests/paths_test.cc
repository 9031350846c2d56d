#include "agent/common/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](absl::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

TEST(CredentialsPath, PrefersXdgConfigHomeThenHome) {
  EXPECT_EQ(*CredentialsPath(Env({{"XDG_CONFIG_HOME", "/c"}, {"HOME", "/h"}})),
            "/c/datagen/credentials.json");
  EXPECT_EQ(*CredentialsPath(Env({{"HOME", "/h"}})), "/h/.config/datagen/credentials.json");
  EXPECT_EQ(*CredentialsPath(Env({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/h"}})),
            "/h/.config/datagen/credentials.json");
  EXPECT_THAT(CredentialsPath(Env({})), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(SocketPath, FollowsThePrecedenceOfCliMd) {
  EXPECT_EQ(
      *SocketPath(Env({{"DATAGEN_AGENT_SOCKET", "/s/a.sock"}, {"XDG_RUNTIME_DIR", "/r"}}), 1000),
      "/s/a.sock");
  EXPECT_EQ(*SocketPath(Env({{"XDG_RUNTIME_DIR", "/run/user/1000"}}), 1000),
            "/run/user/1000/datagen/agent.sock");
  EXPECT_EQ(*SocketPath(Env({}), 1000), "/tmp/datagen-1000/agent.sock");
  EXPECT_THAT(SocketPath(Env({{"DATAGEN_AGENT_SOCKET", "rel.sock"}}), 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SocketPath(Env({{"DATAGEN_AGENT_SOCKET", "/" + std::string(107, 'x')}}), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Unix socket allows")));
  EXPECT_THAT(SocketPath(Env({{"DATAGEN_AGENT_SOCKET", "/" + std::string(106, 'x')}}), 1), IsOk());
}

TEST(Dirname, SplitsAtTheLastSlash) {
  EXPECT_EQ(Dirname("/a/b/c"), "/a/b");
  EXPECT_EQ(Dirname("/c"), "/");
  EXPECT_EQ(Dirname("c"), ".");
}

class EnsurePrivateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/dgp-XXXXXX";
    root_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  mode_t Mode(const std::string& path) {
    struct stat st;
    stat(path.c_str(), &st);
    return st.st_mode & 07777;
  }
  std::string root_;
};

TEST_F(EnsurePrivateDirTest, CreatesMissingFoldersPrivate) {
  std::string dir = root_ + "/a/b";
  EXPECT_THAT(EnsurePrivateDir(dir, getuid(), LooseFolder::kRefuse), IsOk());
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_EQ(Mode(root_ + "/a"), 0700u);
}

TEST_F(EnsurePrivateDirTest, RefusesOrTightensALooseFolder) {
  std::string dir = root_ + "/loose";
  mkdir(dir.c_str(), 0700);
  chmod(dir.c_str(), 0755);
  EXPECT_THAT(EnsurePrivateDir(dir, getuid(), LooseFolder::kRefuse),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 700")));
  EXPECT_EQ(Mode(dir), 0755u);
  std::string repaired;
  EXPECT_THAT(EnsurePrivateDir(dir, getuid(), LooseFolder::kTighten, &repaired), IsOk());
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_THAT(repaired, HasSubstr("tightened to 0700"));
}

TEST_F(EnsurePrivateDirTest, RefusesSymlinksFilesAndOtherOwners) {
  std::string real = root_ + "/real";
  mkdir(real.c_str(), 0700);
  std::string link = root_ + "/link";
  ASSERT_EQ(symlink(real.c_str(), link.c_str()), 0);
  EXPECT_THAT(EnsurePrivateDir(link, getuid(), LooseFolder::kTighten),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
  std::string file = root_ + "/file";
  close(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  EXPECT_THAT(EnsurePrivateDir(file, getuid(), LooseFolder::kTighten),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a folder")));
  EXPECT_THAT(EnsurePrivateDir(real, getuid() + 1, LooseFolder::kTighten),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is owned by uid")));
}

// Issue 23: one place names every file, from the socket and the credentials file.
TEST(PathsTest, EveryFileIsNamedFromItsRoot) {
  const std::string socket = "/run/user/1000/datagen/agent.sock";
  const std::string credentials = "/home/you/.config/datagen/credentials.json";
  EXPECT_EQ(SocketLockFile(socket), "/run/user/1000/datagen/agent.sock.lock");
  EXPECT_EQ(AgentLogFile(socket), "/run/user/1000/datagen/agent.log");
  EXPECT_EQ(PromptStateFile(socket), "/run/user/1000/datagen/prompt");
  EXPECT_EQ(CredentialsLockFile(credentials), "/home/you/.config/datagen/credentials.lock");
  EXPECT_EQ(PendingRevocationsFile(credentials),
            "/home/you/.config/datagen/pending-revocations.json");
  EXPECT_EQ(PendingRevocationsLockFile(PendingRevocationsFile(credentials)),
            "/home/you/.config/datagen/pending-revocations.lock");
}

}  // namespace
}  // namespace datagen
