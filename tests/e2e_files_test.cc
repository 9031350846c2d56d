// End to end: the credentials file as a user may leave it (docs/cli.md "Files and environment").
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/e2e_env.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The files in the credentials folder whose names start with "credentials.json.corrupt-".
std::vector<std::string> Quarantined(const E2eEnv& env) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(env.dir() + "/cfg/datagen")) {
    if (e.path().filename().string().rfind("credentials.json.corrupt-", 0) == 0) {
      found.push_back(e.path().string());
    }
  }
  return found;
}

class CorruptFile : public ::testing::TestWithParam<std::string> {};

TEST_P(CorruptFile, IsReportedKeptAsideAndNeverCrashedOn) {
  E2eEnv env;
  mkdir((env.dir() + "/cfg/datagen").c_str(), 0700);
  WriteFile(env.credentials_path(), GetParam());
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("credentials file was corrupt"));
  EXPECT_THAT(r.err, HasSubstr("kept for inspection as"));
  EXPECT_THAT(r.err, HasSubstr("run: datagen auth login"));
  std::vector<std::string> aside = Quarantined(env);
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(ReadFile(aside[0]), GetParam()) << "the corrupt file must be kept byte for byte";
  // The agent is still alive and now reports a signed-out session.
  EXPECT_EQ(env.Datagen({"auth", "status", "--no-autostart"}).exit_code, 4);
}

INSTANTIATE_TEST_SUITE_P(Contents, CorruptFile,
                         ::testing::Values("{not json", "{\"token\": 123}", "[1, 2, 3]",
                                           "{\"token\": \"has space\"}",
                                           "{\"email\": \"no token\"}",
                                           "{\"token\": \"t\", \"active_org_slug\": \"../x\"}",
                                           "{\"token\": \"t\", \"stored_at\": \"yesterday\"}",
                                           std::string(200 * 1024, '{'),
                                           std::string("\xff\xfe\x00\x01", 4)));

// An empty file (a hand edit that truncates first) holds nothing to keep: signed out, no
// credentials.json.corrupt-<time> of nothing, and the file left for the edit to finish.
TEST(E2eFiles, AnEmptyFileIsSignedOutAndNotKeptAside) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(env.Datagen({"auth", "status"}).exit_code, 0);
  for (const char* empty : {"", "   \n"}) {
    WriteFile(env.credentials_path(), empty);
    EXPECT_TRUE(WaitUntil([&] { return env.Datagen({"auth", "status"}).exit_code == 4; }));
  }
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(env.dir() + "/cfg/datagen")) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr("corrupt")));
    ++entries;
  }
  EXPECT_GE(entries, 1);
  // The edit finishes: signed in again.
  env.WriteCredentials(env.MintToken());
  EXPECT_TRUE(WaitUntil([&] { return env.Datagen({"auth", "status"}).exit_code == 0; }));
}

TEST(E2eFiles, LooseFileAndFolderPermissionsAreTightenedAndReported) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  chmod(env.credentials_path().c_str(), 0644);
  chmod((env.dir() + "/cfg/datagen").c_str(), 0755);
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: the credentials file"));
  EXPECT_THAT(r.err, HasSubstr("tightened to 0600"));
  EXPECT_THAT(r.err, HasSubstr("tightened to 0700"));
  struct stat st;
  stat(env.credentials_path().c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  stat((env.dir() + "/cfg/datagen").c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Once repaired, no more warnings.
  r = env.Datagen({"auth", "status"});
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(E2eFiles, ASymlinkInPlaceOfTheFileIsNotFollowed) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  std::string real = env.dir() + "/elsewhere.json";
  std::filesystem::rename(env.credentials_path(), real);
  ASSERT_EQ(symlink(real.c_str(), env.credentials_path().c_str()), 0);
  std::string before = ReadFile(real);
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is a symbolic link; refusing to follow it"));
  EXPECT_EQ(ReadFile(real), before);
  r = env.Datagen({"auth", "org", "--use", "test-org"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(ReadFile(real), before);
}

TEST(E2eFiles, ASymlinkInPlaceOfTheFolderIsRefused) {
  E2eEnv env;
  std::string real = env.dir() + "/realdir";
  mkdir(real.c_str(), 0700);
  ASSERT_EQ(symlink(real.c_str(), (env.dir() + "/cfg/datagen").c_str()), 0);
  WriteFile(real + "/credentials.json", "{\"token\": \"dgat_abc\"}");
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is a symbolic link; refusing to use it"));
}

TEST(E2eFiles, AFileOwnedByAnotherUidIsRefusedAndLeftAlone) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  ASSERT_EQ(chown(env.credentials_path().c_str(), 65534, 65534), 0);
  std::string before = ReadFile(env.credentials_path());
  RunResult r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is owned by uid 65534, not by you"));
  EXPECT_EQ(env.Datagen({"auth", "logout"}).exit_code, 1);
  EXPECT_EQ(ReadFile(env.credentials_path()), before);
}

TEST(E2eFiles, AChangeBehindTheAgentsBackIsNoticed) {
  E2eEnv env;
  env.WriteCredentials(env.MintToken());
  RunResult r = env.Datagen({"auth", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("active_org_slug: yourcompany"));
  env.WriteCredentials(env.MintToken(), "test-org");
  r = env.Datagen({"auth", "status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("active_org_slug: test-org\nrole: member"));
  unlink(env.credentials_path().c_str());
  EXPECT_EQ(env.Datagen({"auth", "status"}).exit_code, 4);
}

TEST(E2eFiles, WrittenFileIsPrivateAndWhole) {
  E2eEnv env;
  std::string token = env.MintToken();
  env.WriteCredentials(token);
  ASSERT_EQ(env.Datagen({"auth", "org", "--use", "test-org"}).exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat(env.credentials_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string content = ReadFile(env.credentials_path());
  EXPECT_THAT(content, HasSubstr("\"token\": \"" + token + "\""));
  EXPECT_THAT(content, HasSubstr("\"stored_at\": \"2026-11-27T10:00:00Z\""));
  for (const auto& e : std::filesystem::directory_iterator(env.dir() + "/cfg/datagen")) {
    // The lock that agents sharing the folder take turns through stays (empty), like a socket
    // lock; no temporary file is left behind.
    EXPECT_THAT(e.path().filename().string(),
                ::testing::AnyOf("credentials.json", "credentials.lock"));
  }
}

}  // namespace
}  // namespace datagen::testing
