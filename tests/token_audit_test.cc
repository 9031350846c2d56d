// The audit of token hand-outs (agent/rpc/token_audit) and the peer table behind it.
#include "agent/rpc/token_audit.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "agent/rpc/peer_table.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

TEST(PeerTable, FindsAConnectionByGrpcsPeerStringOnly) {
  PeerTable peers;
  ucred peer{123, 1000, 1000};
  peers.Set(7, peer);
  ASSERT_TRUE(peers.Find("fd:7").has_value());
  EXPECT_EQ(peers.Find("fd:7")->pid, 123);
  EXPECT_FALSE(peers.Find("fd:8").has_value());
  EXPECT_FALSE(peers.Find("ipv4:127.0.0.1:80").has_value());
  EXPECT_FALSE(peers.Find("fd:").has_value());
  EXPECT_FALSE(peers.Find("fd:7x").has_value());
  peers.Set(7, ucred{456, 1000, 1000});  // the number reused by a later connection
  EXPECT_EQ(peers.Find("fd:7")->pid, 456);
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0600) {
  std::ofstream(path) << content;
  chmod(path.c_str(), mode);
}

// A fake /proc: <root>/<pid>/exe a link to an executable, <root>/<pid>/stat naming the parent.
void FakeProcess(const std::string& root, int pid, const std::string& exe, int parent) {
  std::string dir = root + "/" + std::to_string(pid);
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(symlink(exe.c_str(), (dir + "/exe").c_str()), 0);
  WriteFile(dir + "/stat",
            std::to_string(pid) + " (a (strange) name) S " + std::to_string(parent) + " 1 1 0\n");
}

TEST(DescribeProcess, NamesTheExecutableAndTheParentAndMarksAReplacedOne) {
  testing::TempDir dir;
  std::string proc = dir.path() + "/proc";
  ASSERT_EQ(mkdir(proc.c_str(), 0700), 0);
  std::string tool = dir.path() + "/tool", shell = dir.path() + "/shell";
  WriteFile(tool, "#!/bin/sh\n", 0700);
  WriteFile(shell, "#!/bin/sh\n", 0700);
  FakeProcess(proc, 20, tool, 10);
  FakeProcess(proc, 10, shell, 1);
  ProcessInfo info = DescribeProcess(20, proc);
  EXPECT_EQ(info.executable, tool);
  EXPECT_EQ(info.parent_pid, 10);
  EXPECT_EQ(info.parent_executable, shell);
  EXPECT_FALSE(info.executable_changed);
  // An executable deleted since its process started: /proc says "<path> (deleted)".
  FakeProcess(proc, 30, "/opt/tool (deleted)", 10);
  ProcessInfo deleted = DescribeProcess(30, proc);
  EXPECT_EQ(deleted.executable, "/opt/tool");
  EXPECT_TRUE(deleted.executable_changed);
  // A process that is gone: nothing known, nothing invented.
  ProcessInfo gone = DescribeProcess(99, proc);
  EXPECT_EQ(gone.executable, "");
  EXPECT_EQ(gone.parent_pid, 0);
}

TEST(DescribeProcess, MarksTheAgentsOwnProcessAsUnchanged) {
  ProcessInfo self = DescribeProcess(getpid());
  EXPECT_FALSE(self.executable.empty());
  EXPECT_FALSE(self.executable_changed);
  EXPECT_EQ(self.parent_pid, getppid());
}

TEST(TokenAudit, KeepsTheLastThousandNewestFirstAndNeverAToken) {
  TokenAudit audit;
  ucred me{getpid(), getuid(), getgid()};
  for (int i = 0; i < 1005; ++i) {
    audit.Record(i % 2 ? "staging" : "default", me, absl::FromUnixSeconds(1000 + i), "GetToken");
  }
  audit.Record("default", std::nullopt, absl::FromUnixSeconds(5000), "GetToken");
  agent::v1::ListTokenHandoutsResponse list = audit.List();
  ASSERT_EQ(list.handouts_size(), static_cast<int>(TokenAudit::kCapacity));
  EXPECT_EQ(list.handouts(0).time().seconds(), 5000) << "newest first";
  EXPECT_EQ(list.handouts(0).pid(), 0) << "an unknown peer is recorded as such";
  EXPECT_EQ(list.handouts(1).time().seconds(), 1000 + 1004);
  EXPECT_EQ(list.handouts(1).pid(), getpid());
  EXPECT_EQ(list.handouts(1).uid(), static_cast<int>(getuid()));
  EXPECT_FALSE(list.handouts(1).executable().empty());
  EXPECT_EQ(list.handouts(999).time().seconds(), 1000 + 6) << "the oldest dropped";
}

}  // namespace
}  // namespace datagen
