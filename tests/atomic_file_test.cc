#include "agent/store/atomic_file.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

using testing::IsOk;
using testing::ReadFile;
using testing::WriteFile;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// A pid that ran and is gone: a child that exited and was reaped.
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

TEST(WriteFileAtomically, WritesAPrivateFileAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  std::string path = dir.path() + "/credentials.json";
  ASSERT_THAT(WriteFileAtomically(path, "one"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, "two"), IsOk());
  EXPECT_EQ(ReadFile(path), "two");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(Exists(absl::StrCat(path, ".tmp-", getpid())));
}

TEST(WriteFileAtomically, RemovesWhatKilledWritersLeftButNotALiveWritersFile) {
  testing::TempDir dir;
  std::string path = dir.path() + "/credentials.json";
  std::string dead = absl::StrCat(path, ".tmp-", DeadPid());
  std::string live = absl::StrCat(path, ".tmp-", getppid());
  std::string other = dir.path() + "/other.json.tmp-1";  // not this file's
  WriteFile(dead, "half a wri");
  WriteFile(live, "in progress");
  WriteFile(other, "x");
  ASSERT_THAT(WriteFileAtomically(path, "whole"), IsOk());
  EXPECT_FALSE(Exists(dead));
  EXPECT_TRUE(Exists(live));
  EXPECT_TRUE(Exists(other));
  EXPECT_EQ(ReadFile(path), "whole");
}

TEST(MoveCorruptFileAside, KeepsTheFileUnderATimestampedNameAndNeverOverwritesOne) {
  testing::TempDir dir;
  std::string path = dir.path() + "/credentials.json";
  const absl::Time at = absl::FromUnixSeconds(1795820000);  // 2026-11-28T...Z
  WriteFile(path, "first");
  absl::StatusOr<std::string> aside = MoveCorruptFileAside(path, "the file", "it is empty", at);
  ASSERT_THAT(aside, IsOk());
  EXPECT_EQ(*aside,
            path + ".corrupt-" + absl::FormatTime("%Y%m%dT%H%M%SZ", at, absl::UTCTimeZone()));
  EXPECT_EQ(ReadFile(*aside), "first");
  EXPECT_EQ(access(path.c_str(), F_OK), -1);
  // The same second again: a second name, the first kept.
  WriteFile(path, "second");
  absl::StatusOr<std::string> again = MoveCorruptFileAside(path, "the file", "again", at);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, *aside + "-1");
  EXPECT_EQ(ReadFile(*aside), "first");
  EXPECT_EQ(ReadFile(*again), "second");
}

TEST(MoveCorruptFileAside, SaysWhyWhenItCannotMoveIt) {
  testing::TempDir dir;
  EXPECT_THAT(
      MoveCorruptFileAside(dir.path() + "/absent", "the queue", "it is not JSON", absl::Now()),
      testing::StatusIs(absl::StatusCode::kDataLoss,
                        ::testing::HasSubstr("the queue " + dir.path() +
                                             "/absent is corrupt (it is not JSON) and "
                                             "could not be moved aside")));
}

}  // namespace
}  // namespace datagen
