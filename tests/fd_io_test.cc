#include "agent/common/fd_io.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

TEST(FdIoTest, WriteAllWritesEverythingThroughShortWrites) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // More than a pipe holds at once, read by a child so that the writer sees short writes.
  std::string data(1 << 20, 'x');
  pid_t reader = fork();
  if (reader == 0) {
    close(fds[1]);
    char buffer[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) total += static_cast<size_t>(n);
    _exit(total == (1u << 20) ? 0 : 1);
  }
  close(fds[0]);
  EXPECT_TRUE(WriteAll(fds[1], data));
  close(fds[1]);
  int status = 0;
  waitpid(reader, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(FdIoTest, WriteAllFailsOnAClosedReader) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_FALSE(WriteAll(fds[1], "lost"));
  EXPECT_EQ(errno, EPIPE);
  close(fds[1]);
}

TEST(FdIoTest, FindsACompanionOnPathAndNothingWhenThereIsNone) {
  testing::TempDir dir;
  std::string tool = dir.path() + "/datagen-test-companion";
  testing::WriteFile(tool, "#!/bin/sh\n", 0755);
  std::string saved = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", ("/nonexistent:" + dir.path()).c_str(), 1);
  EXPECT_EQ(FindCompanionBinary("datagen-test-companion"), tool);
  EXPECT_EQ(FindCompanionBinary("datagen-no-such-companion"), "");
  chmod(tool.c_str(), 0644);  // not executable: not a candidate
  EXPECT_EQ(FindCompanionBinary("datagen-test-companion"), "");
  setenv("PATH", saved.c_str(), 1);
}

// Issue 23: the owned descriptor closes what it holds, once, and hands it on without closing.
TEST(UniqueFdTest, ClosesOnceAndReleasesWithoutClosing) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  {
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd moved = std::move(read_end);
    EXPECT_FALSE(read_end.valid());
    EXPECT_EQ(moved.get(), pipe_fds[0]);
  }
  EXPECT_EQ(fcntl(pipe_fds[0], F_GETFD), -1) << "closed when its owner went";
  UniqueFd write_end(pipe_fds[1]);
  int raw = write_end.release();
  EXPECT_FALSE(write_end.valid());
  EXPECT_NE(fcntl(raw, F_GETFD), -1) << "released: still open";
  write_end.reset(raw);
  write_end.reset();
  EXPECT_EQ(fcntl(raw, F_GETFD), -1);
}

}  // namespace
}  // namespace datagen
