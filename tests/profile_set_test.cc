// The profiles one agent serves (agent/profiles): loaded by name, each its own files and
// session, none created by a read, none "current".
#include "agent/profiles/profile_set.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "agent/common/paths.h"
#include "agent/common/random.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

class ProfileSetTest : public ::testing::Test {
 protected:
  ProfileSetTest() : issuers_(transport_, "datagen-cli", "http://127.0.0.1:1"), random_(7) {
    env_.transport = &transport_;
    env_.issuers = &issuers_;
    env_.clock = &clock_;
    env_.random = &random_;
    env_.default_credentials = dir_.path() + "/cfg/datagen/credentials.json";
    env_.uid = getuid();
    env_.scope = "openid";
    env_.configured_api_url = "http://127.0.0.1:1";
    env_.env = [](absl::string_view) { return std::nullopt; };
    env_.background_work = false;
  }

  std::string Folder(const std::string& name) {
    return Dirname(ProfileCredentialsFile(env_.default_credentials, name));
  }

  testing::TempDir dir_;
  testing::FakeHttpTransport transport_;
  Issuers issuers_;
  testing::FakeClock clock_;
  SeededRandom random_;
  ProfileEnv env_;
};

TEST_F(ProfileSetTest, TheDefaultProfileIsTheCredentialsFileItselfAndAlwaysLoaded) {
  ProfileSet set(env_);
  set.Start();
  ASSERT_NE(set.Find(""), nullptr);
  EXPECT_EQ(set.Find(""), set.Find("default"));
  EXPECT_EQ(set.Find("")->credentials_path(), env_.default_credentials);
  EXPECT_EQ(set.Loaded().size(), 1u);
  EXPECT_EQ(set.default_profile().session().profile(), "default");
}

TEST_F(ProfileSetTest, ReadingAProfileThatDoesNotExistCreatesNothing) {
  ProfileSet set(env_);
  set.Start();
  absl::StatusOr<Profile*> absent = set.Load("home", /*create=*/false);
  EXPECT_TRUE(absl::IsNotFound(absent.status())) << absent.status();
  EXPECT_FALSE(Exists(Folder("home")));
  EXPECT_EQ(set.Find("home"), nullptr);
}

TEST_F(ProfileSetTest, ALoginCreatesItsPrivateFolderAndItsOwnSession) {
  ProfileSet set(env_);
  set.Start();
  absl::StatusOr<Profile*> home = set.Load("home", /*create=*/true);
  ASSERT_TRUE(home.ok()) << home.status();
  EXPECT_EQ(ModeOf(Folder("home")), 0700u);
  EXPECT_EQ((*home)->credentials_path(),
            dir_.path() + "/cfg/datagen/profiles/home/credentials.json");
  EXPECT_EQ((*home)->session().profile(), "home");
  EXPECT_NE(&(*home)->session(), &set.default_profile().session());
  EXPECT_EQ(set.Find("home"), *home);
  EXPECT_EQ(*set.Load("home", /*create=*/false), *home) << "loaded once";
  std::vector<Profile*> loaded = set.Loaded();
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0]->name(), "default");
  EXPECT_EQ(loaded[1]->name(), "home");
}

TEST_F(ProfileSetTest, ANameThatIsNotAProfileNameIsRefusedBeforeAnyFileIsTouched) {
  ProfileSet set(env_);
  for (const char* bad :
       {"..", "a/b", "Home", "-x", "_x", "a b", "abcdefghijklmnopqrstuvwxyz0123456"}) {
    absl::StatusOr<Profile*> refused = set.Load(bad, /*create=*/true);
    EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << bad;
  }
  EXPECT_FALSE(Exists(dir_.path() + "/cfg/datagen/profiles"));
  EXPECT_TRUE(set.Load("abcdefghijklmnopqrstuvwxyz012345", true).ok()) << "32 characters";
}

TEST_F(ProfileSetTest, ProfilesOnDiskAreLoadedAtStartAndWhenListed) {
  ASSERT_TRUE(EnsurePrivateDir(Folder("work"), getuid(), LooseFolder::kRefuse).ok());
  ASSERT_TRUE(EnsurePrivateDir(Folder("Not-A-Name"), getuid(), LooseFolder::kRefuse).ok());
  ProfileSet set(env_);
  set.Start();
  EXPECT_NE(set.Find("work"), nullptr);
  EXPECT_EQ(set.Loaded().size(), 2u) << "a folder that is not a profile name is ignored";
  // One made since (by another agent on the same files): loaded when every profile is asked for.
  ASSERT_TRUE(EnsurePrivateDir(Folder("later"), getuid(), LooseFolder::kRefuse).ok());
  EXPECT_EQ(set.Find("later"), nullptr);
  EXPECT_EQ(set.LoadAll().size(), 3u);
  EXPECT_NE(set.Find("later"), nullptr);
}

TEST_F(ProfileSetTest, ALoadListenerSeesEveryProfileLoadedBeforeAndAfterUntilRemoved) {
  ProfileSet set(env_);
  set.Start();
  ASSERT_TRUE(set.Load("one", true).ok());
  std::vector<std::string> seen;
  uint64_t handle = set.AddLoadListener([&](Profile& p) { seen.push_back(p.name()); });
  EXPECT_EQ(seen, (std::vector<std::string>{"default", "one"}));
  ASSERT_TRUE(set.Load("two", true).ok());
  EXPECT_EQ(seen.back(), "two");
  set.RemoveLoadListener(handle);
  ASSERT_TRUE(set.Load("three", true).ok());
  EXPECT_EQ(seen.size(), 3u);
}

// A profile is built outside the set's lock (its construction reads the disk); callers that race
// to load one new name still get one profile, started and announced once.
TEST_F(ProfileSetTest, CallersRacingToLoadOneNewProfileGetTheSameOne) {
  ProfileSet set(env_);
  set.Start();
  std::atomic<int> announced{0};
  set.AddLoadListener([&](Profile& p) { announced += p.name() == "work" ? 1 : 0; });
  std::vector<Profile*> got(8, nullptr);
  std::vector<std::thread> callers;
  for (size_t i = 0; i < got.size(); ++i) {
    callers.emplace_back([&, i] {
      absl::StatusOr<Profile*> loaded = set.Load("work", /*create=*/true);
      if (loaded.ok()) got[i] = *loaded;
      EXPECT_EQ(set.Find("")->name(), "default") << "Find answers while profiles load";
    });
  }
  for (std::thread& caller : callers) caller.join();
  for (Profile* profile : got) EXPECT_EQ(profile, set.Find("work"));
  EXPECT_NE(set.Find("work"), nullptr);
  EXPECT_EQ(announced.load(), 1);
  EXPECT_EQ(set.Loaded().size(), 2u);
}

TEST_F(ProfileSetTest, AtMostSoManyProfilesAreLoaded) {
  ProfileSet set(env_);
  for (size_t i = 1; i < ProfileSet::kMaxProfiles; ++i) {
    ASSERT_TRUE(set.Load("p" + std::to_string(i), true).ok()) << i;
  }
  absl::StatusOr<Profile*> over = set.Load("one-too-many", true);
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
  EXPECT_FALSE(Exists(Folder("one-too-many")));
}

TEST_F(ProfileSetTest, NothingLoadsOnceStopped) {
  ProfileSet set(env_);
  set.Start();
  set.StopLogins();
  set.StopBackground();
  EXPECT_TRUE(absl::IsUnavailable(set.Load("late", true).status()));
  EXPECT_NE(set.Find(""), nullptr) << "what was loaded stays until the set goes";
}

}  // namespace
}  // namespace datagen
