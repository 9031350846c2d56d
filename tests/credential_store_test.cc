#include "agent/store/credential_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace datagen {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using testing::ReadFile;
using testing::StatusIs;
using testing::WriteFile;

class FileCredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/dgs-XXXXXX";
    root_ = mkdtemp(pattern);
    dir_ = root_ + "/datagen";
    path_ = dir_ + "/credentials.json";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  agent::v1::Credentials Sample() {
    agent::v1::Credentials c;
    c.set_token("dgat_0123456789");
    c.set_email("you@yourcompany.com");
    c.set_active_org_slug("yourcompany");
    c.mutable_stored_at()->set_seconds(1795820000);
    return c;
  }
  mode_t Mode(const std::string& path) {
    struct stat st;
    stat(path.c_str(), &st);
    return st.st_mode & 07777;
  }

  std::string root_, dir_, path_;
  testing::FakeClock clock_;
  std::vector<std::string> warnings_;
};

TEST_F(FileCredentialStoreTest, SaveThenLoadRoundTripsPrivately) {
  FileCredentialStore store(path_, getuid(), clock_);
  EXPECT_THAT(store.Load(&warnings_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(store.Fingerprint(), "absent");
  ASSERT_THAT(store.Save(Sample()), IsOk());
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(path_), 0600u);
  auto loaded = store.Load(&warnings_);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->SerializeAsString(), Sample().SerializeAsString());
  EXPECT_THAT(ReadFile(path_), HasSubstr("\"stored_at\": \"2026-11-27T"));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(FileCredentialStoreTest, FingerprintChangesOnEveryWrite) {
  FileCredentialStore store(path_, getuid(), clock_);
  ASSERT_THAT(store.Save(Sample()), IsOk());
  std::string first = store.Fingerprint();
  agent::v1::Credentials other = Sample();
  other.set_active_org_slug("test-org");
  ASSERT_THAT(store.Save(other), IsOk());
  EXPECT_NE(store.Fingerprint(), first);
  ASSERT_THAT(store.Remove(), IsOk());
  EXPECT_EQ(store.Fingerprint(), "absent");
  EXPECT_THAT(store.Remove(), IsOk()) << "removing nothing is fine";
}

TEST_F(FileCredentialStoreTest, CorruptFileIsMovedAsideWithItsContent) {
  FileCredentialStore store(path_, getuid(), clock_);
  mkdir(dir_.c_str(), 0700);
  WriteFile(path_, "{\"token\": ");
  EXPECT_THAT(store.Load(&warnings_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path_ + ".corrupt-20261127T")));
  EXPECT_NE(access(path_.c_str(), F_OK), 0);
  // A second corrupt file in the same second gets its own name.
  WriteFile(path_, "[]");
  EXPECT_THAT(store.Load(&warnings_), StatusIs(absl::StatusCode::kDataLoss));
  int kept = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    std::string content = ReadFile(e.path());
    EXPECT_TRUE(content == "{\"token\": " || content == "[]") << content;
    ++kept;
  }
  EXPECT_EQ(kept, 2);
}

// An empty file (a hand edit that truncates first) holds nothing to keep: no corrupt copy, the
// file left where it is for the edit to finish, and signed out until it does.
TEST_F(FileCredentialStoreTest, AnEmptyFileIsSignedOutAndNeitherMovedNorCopied) {
  FileCredentialStore store(path_, getuid(), clock_);
  mkdir(dir_.c_str(), 0700);
  for (const char* empty : {"", " \n\t\n"}) {
    WriteFile(path_, empty);
    EXPECT_THAT(store.Load(&warnings_), StatusIs(absl::StatusCode::kNotFound, HasSubstr("empty")));
    EXPECT_EQ(access(path_.c_str(), F_OK), 0) << "left in place";
  }
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) entries += e.exists();
  EXPECT_EQ(entries, 1) << "no credentials.json.corrupt-<time> of nothing";
}

TEST_F(FileCredentialStoreTest, OversizedFileIsCorruptWithoutBeingRead) {
  FileCredentialStore store(path_, getuid(), clock_);
  mkdir(dir_.c_str(), 0700);
  WriteFile(path_, std::string(FileCredentialStore::kMaxFileBytes + 1, ' '));
  EXPECT_THAT(store.Load(&warnings_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more than a credentials file")));
}

TEST_F(FileCredentialStoreTest, LoosePermissionsAreTightenedWithAWarning) {
  FileCredentialStore store(path_, getuid(), clock_);
  ASSERT_THAT(store.Save(Sample()), IsOk());
  chmod(path_.c_str(), 0644);
  chmod(dir_.c_str(), 0750);
  ASSERT_THAT(store.Load(&warnings_), IsOk());
  EXPECT_EQ(Mode(path_), 0600u);
  EXPECT_EQ(Mode(dir_), 0700u);
  ASSERT_EQ(warnings_.size(), 2u);
}

TEST_F(FileCredentialStoreTest, SymlinksAndForeignFilesAreRefused) {
  FileCredentialStore store(path_, getuid(), clock_);
  mkdir(dir_.c_str(), 0700);
  std::string target = root_ + "/target.json";
  WriteFile(target, "{\"token\": \"dgat_x\"}");
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  EXPECT_THAT(store.Load(&warnings_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("symbolic link")));
  unlink(path_.c_str());
  WriteFile(path_, "{\"token\": \"dgat_x\"}");
  FileCredentialStore as_other(path_, getuid() + 1, clock_);
  EXPECT_THAT(as_other.Load(&warnings_), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(mkfifo((root_ + "/fifo").c_str(), 0600), 0);
  FileCredentialStore fifo(root_ + "/fifo", getuid(), clock_);
  EXPECT_THAT(fifo.Load(&warnings_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a regular file")));
}

TEST_F(FileCredentialStoreTest, SaveReplacesASymlinkRatherThanWritingThroughIt) {
  FileCredentialStore store(path_, getuid(), clock_);
  mkdir(dir_.c_str(), 0700);
  std::string target = root_ + "/target.json";
  WriteFile(target, "precious");
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  ASSERT_THAT(store.Save(Sample()), IsOk());
  EXPECT_EQ(ReadFile(target), "precious");
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(ValidateCredentials, NamesTheFieldNeverTheValue) {
  agent::v1::Credentials c;
  EXPECT_THAT(ValidateCredentials(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no token")));
  c.set_token("dgat_with space");
  absl::Status s = ValidateCredentials(c);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr("dgat_with")));
  c.set_token("dgat_ok");
  c.set_active_org_slug("bad slug");
  EXPECT_THAT(ValidateCredentials(c),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("active_org_slug")));
  c.set_active_org_slug("");
  EXPECT_THAT(ValidateCredentials(c), IsOk());
}

// Issue 23: an editor that truncates, then writes, leaves the file empty or cut short for a
// moment. While the writer still has it open that is not the file's content: nothing is
// quarantined (which would move the writer's file away, their write with it) and nothing is
// concluded; once it is closed, the file is read for what it is.
TEST_F(FileCredentialStoreTest, AFileAWriterStillHasOpenIsNeitherReadNorMovedAside) {
  signal(SIGIO, SIG_IGN);  // as the agent does (credential_store.h)
  FileCredentialStore store(path_, getuid(), clock_);
  ASSERT_THAT(store.Save(Sample()), IsOk());
  for (const std::string& partial : {std::string(""), std::string("{\"token\": \"dgat_01")}) {
    int writer = open(path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(writer, 0);
    ASSERT_EQ(write(writer, partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
    absl::Status loaded = store.Load(&warnings_).status();
    EXPECT_TRUE(IsBeingWritten(loaded)) << loaded;
    EXPECT_EQ(ReadFile(path_), partial) << "left where the writer writes";
    close(writer);
  }
  // Closed, cut short: corrupt, kept aside, as before.
  EXPECT_THAT(store.Load(&warnings_), StatusIs(absl::StatusCode::kDataLoss));
  WriteFile(path_, "");
  EXPECT_THAT(store.Load(&warnings_), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace datagen
