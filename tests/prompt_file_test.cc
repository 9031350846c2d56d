#include "agent/session/prompt_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

using testing::TempDir;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

agent::v1::WatchEvent Event(agent::v1::SessionState state, const std::string& org,
                            const std::string& email = "you@example.com") {
  agent::v1::WatchEvent event;
  event.mutable_session()->set_state(state);
  event.mutable_session()->set_active_org_slug(org);
  event.mutable_session()->set_email(email);
  return event;
}

TEST(PromptFileLine, NamesStateAndOrgAndPidOnly) {
  agent::v1::SessionSnapshot s = Event(agent::v1::SESSION_STATE_SIGNED_IN, "acme").session();
  EXPECT_EQ(PromptFile::Line(42, s), "datagen-prompt 1 42 signed_in acme\n");
  s.set_state(agent::v1::SESSION_STATE_EXPIRED);
  EXPECT_EQ(PromptFile::Line(42, s), "datagen-prompt 1 42 expired acme\n");
  s.set_state(agent::v1::SESSION_STATE_SIGNED_OUT);
  s.clear_active_org_slug();
  EXPECT_EQ(PromptFile::Line(42, s), "datagen-prompt 1 42 signed_out \n");
}

TEST(PromptFileLine, AnOrgThatIsNotASlugIsLeftOutSoTheLineStillSplitsOnSpaces) {
  agent::v1::SessionSnapshot s =
      Event(agent::v1::SESSION_STATE_SIGNED_IN, "evil org\n\x1b[2J").session();
  EXPECT_EQ(PromptFile::Line(7, s), "datagen-prompt 1 7 signed_in \n");
}

TEST(PromptFile, WritesA0600FileAndReplacesItOnlyWhenTheLineChanges) {
  TempDir dir;
  std::string path = dir.path() + "/prompt";
  PromptFile file(path, 99);
  file.OnSessionEvent(Event(agent::v1::SESSION_STATE_SIGNED_IN, "acme"));
  EXPECT_EQ(Read(path), "datagen-prompt 1 99 signed_in acme\n");
  struct stat first;
  ASSERT_EQ(stat(path.c_str(), &first), 0);
  EXPECT_EQ(first.st_mode & 07777, 0600u);

  // A refresh (new expiry, same line) writes nothing: the same inode stays.
  agent::v1::WatchEvent refreshed = Event(agent::v1::SESSION_STATE_SIGNED_IN, "acme");
  refreshed.mutable_session()->mutable_token_expires_at()->set_seconds(12345);
  file.OnSessionEvent(refreshed);
  struct stat again;
  ASSERT_EQ(stat(path.c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, first.st_ino);

  file.OnSessionEvent(Event(agent::v1::SESSION_STATE_SIGNED_IN, "other"));
  EXPECT_EQ(Read(path), "datagen-prompt 1 99 signed_in other\n");
  ASSERT_EQ(stat(path.c_str(), &again), 0);
  EXPECT_NE(again.st_ino, first.st_ino) << "replaced by rename, never rewritten in place";

  // Nothing left beside it.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists();
  EXPECT_EQ(entries, 1);

  file.Remove();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  file.Remove();  // already gone: fine
}

TEST(PromptFile, AFailedWriteIsRetriedAtTheNextChange) {
  TempDir dir;
  std::string path = dir.path() + "/missing/prompt";
  PromptFile file(path, 5);
  file.OnSessionEvent(Event(agent::v1::SESSION_STATE_SIGNED_IN, "acme"));  // logged, not fatal
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  ASSERT_EQ(mkdir((dir.path() + "/missing").c_str(), 0700), 0);
  file.OnSessionEvent(Event(agent::v1::SESSION_STATE_SIGNED_IN, "acme"));
  EXPECT_EQ(Read(path), "datagen-prompt 1 5 signed_in acme\n");
}

TEST(PromptFile, NeverFollowsASymlinkPlantedAtItsTemporaryName) {
  TempDir dir;
  std::string path = dir.path() + "/prompt";
  std::string target = dir.path() + "/target";
  { std::ofstream(target) << "keep"; }
  // The temporary name WriteFileAtomically uses in this process.
  ASSERT_EQ(symlink(target.c_str(), (path + ".tmp-" + std::to_string(getpid())).c_str()), 0);
  PromptFile file(path, 5);
  file.OnSessionEvent(Event(agent::v1::SESSION_STATE_SIGNED_IN, "acme"));
  EXPECT_EQ(Read(target), "keep");
}

}  // namespace
}  // namespace datagen

namespace datagen {
namespace {

agent::v1::WatchEvent Of(const std::string& profile, agent::v1::SessionState state,
                         const std::string& org) {
  agent::v1::WatchEvent event = Event(state, org);
  event.set_profile(profile);
  return event;
}

// Issue "Several identities at once": the default profile's line first, as one-line readers
// expect, then a line for each other profile by name; a user with one profile has one line.
TEST(PromptFile, HoldsALinePerProfileTheDefaultOneFirst) {
  TempDir dir;
  std::string path = dir.path() + "/prompt";
  PromptFile file(path, 7);
  file.OnSessionEvent(Of("default", agent::v1::SESSION_STATE_SIGNED_IN, "acme"));
  EXPECT_EQ(Read(path), "datagen-prompt 1 7 signed_in acme\n");
  file.OnSessionEvent(Of("work", agent::v1::SESSION_STATE_SIGNED_IN, "bigco"));
  file.OnSessionEvent(Of("home", agent::v1::SESSION_STATE_EXPIRED, "me"));
  EXPECT_EQ(Read(path),
            "datagen-prompt 1 7 signed_in acme\nprofile home expired me\n"
            "profile work signed_in bigco\n");
  file.OnSessionEvent(Of("work", agent::v1::SESSION_STATE_SIGNED_OUT, ""));
  file.OnSessionEvent(Of("default", agent::v1::SESSION_STATE_SIGNED_IN, "other"));
  EXPECT_EQ(Read(path),
            "datagen-prompt 1 7 signed_in other\nprofile home expired me\n"
            "profile work signed_out \n");
  // Each other profile has its own one-line file too, in the first line's format: a prompt of
  // that profile reads one line, whatever the number of profiles.
  EXPECT_EQ(Read(dir.path() + "/prompt.home"), "datagen-prompt 1 7 expired me\n");
  EXPECT_EQ(Read(dir.path() + "/prompt.work"), "datagen-prompt 1 7 signed_out \n");
  file.Remove();
  for (const char* gone : {"/prompt", "/prompt.home", "/prompt.work"}) {
    EXPECT_EQ(access((dir.path() + gone).c_str(), F_OK), -1) << gone;
  }
  // A profile's event before the default one's: the default line is there all the same.
  TempDir fresh;
  PromptFile early(fresh.path() + "/prompt", 7);
  early.OnSessionEvent(Of("home", agent::v1::SESSION_STATE_SIGNED_IN, "me"));
  EXPECT_EQ(Read(fresh.path() + "/prompt"),
            "datagen-prompt 1 7 signed_out \nprofile home signed_in me\n");
}

}  // namespace
}  // namespace datagen
