#include "agent/session/credentials_cache.h"

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/memory_credential_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

using ::datagen::testing::FakeClock;
using ::datagen::testing::IsOk;
using ::datagen::testing::MemoryCredentialStore;
using ::datagen::testing::StatusIs;

agent::v1::Credentials Creds(const std::string& token, const std::string& org = "a") {
  agent::v1::Credentials c;
  c.set_token(token);
  c.set_refresh_token("dgrt_" + token);
  c.set_active_org_slug(org);
  return c;
}

class CredentialsCacheTest : public ::testing::Test {
 protected:
  absl::StatusOr<agent::v1::Credentials> Current() { return cache_.Current(&changed_); }

  FakeClock clock_;
  MemoryCredentialStore store_;
  testing::TempDir dir_;
  RevocationQueue revocations_{dir_.path() + "/pending-revocations.json", getuid(), clock_,
                               testing::NoJitter()};
  CredentialsCache cache_{store_, revocations_, testing::NoJitter()};
  bool changed_ = false;
};

TEST_F(CredentialsCacheTest, ReadsOnlyWhenTheFileChangedAndReportsContentChangesOnly) {
  EXPECT_THAT(Current(), StatusIs(absl::StatusCode::kUnauthenticated, "not signed in"));
  store_.Put(Creds("dgat_a"));
  ASSERT_THAT(Current(), IsOk());
  EXPECT_TRUE(changed_) << "signed in behind the agent's back";
  int loads = store_.loads();
  ASSERT_THAT(Current(), IsOk());
  EXPECT_EQ(store_.loads(), loads) << "unchanged fingerprint: no read";
  EXPECT_FALSE(changed_);
  store_.Put(Creds("dgat_a"));  // rewritten with the same content
  ASSERT_THAT(Current(), IsOk());
  EXPECT_FALSE(changed_);
  EXPECT_EQ(store_.loads(), loads + 1);
}

// Issue 23: a hand edit reaches watchers as one change with the file's final content. While a
// writer is still at it (the store says IsBeingWritten), the session stays what it was and no
// change is reported; the next look reads the finished file.
TEST_F(CredentialsCacheTest, AFileBeingWrittenIsNoChangeUntilItIsFinished) {
  store_.Put(Creds("dgat_a", "a"));
  ASSERT_THAT(Current(), IsOk());
  store_.Put(Creds("dgat_a", "b"));
  store_.set_load_error(BeingWrittenError());
  absl::StatusOr<agent::v1::Credentials> during = Current();
  ASSERT_THAT(during, IsOk());
  EXPECT_EQ(during->active_org_slug(), "a");
  EXPECT_FALSE(changed_);
  EXPECT_FALSE(cache_.AnswerableFromMemory()) << "the next call must look again";
  store_.set_load_error(absl::OkStatus());
  absl::StatusOr<agent::v1::Credentials> after = Current();
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->active_org_slug(), "b");
  EXPECT_TRUE(changed_) << "one change, with the final content";
}

TEST_F(CredentialsCacheTest, SavesAreNotChangesBehindTheBack) {
  ASSERT_THAT(cache_.Save(Creds("dgat_a")), IsOk());
  ASSERT_THAT(Current(), IsOk());
  EXPECT_FALSE(changed_);
  EXPECT_EQ(cache_.cached()->token(), "dgat_a");
  ASSERT_THAT(cache_.Remove(), IsOk());
  EXPECT_EQ(cache_.cached(), nullptr);
  EXPECT_FALSE(store_.stored().has_value());
}

TEST_F(CredentialsCacheTest, FinishesALogoutCutShortAtTheFirstReadOnly) {
  store_.Put(Creds("dgat_a"));
  ASSERT_THAT(revocations_.Add({{"dgat_a", "access_token", ""}}), IsOk());
  EXPECT_THAT(Current(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_FALSE(store_.stored().has_value());
  // Later, the same token put back by hand is the person's own.
  store_.Put(Creds("dgat_a"));
  EXPECT_THAT(Current(), IsOk());
}

TEST_F(CredentialsCacheTest, ACorruptFileIsReportedOnceAndWarningsHandedOutOnce) {
  store_.set_load_error(absl::DataLossError("corrupt; kept as credentials.json.corrupt-1"));
  store_.Put(Creds("dgat_a"));
  EXPECT_THAT(Current(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(cache_.AnswerableFromMemory()) << "the problem is unreported";
  EXPECT_THAT(cache_.TakeProblem(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(cache_.TakeProblem(), IsOk());
  EXPECT_TRUE(cache_.TakeWarnings().empty());
}

TEST_F(CredentialsCacheTest, AnswerableFromMemoryOnlyWhenNothingChangedOrIsPending) {
  EXPECT_FALSE(cache_.AnswerableFromMemory()) << "never read";
  (void)Current();
  EXPECT_TRUE(cache_.AnswerableFromMemory()) << "no file, known";
  store_.Put(Creds("dgat_a"));
  EXPECT_FALSE(cache_.AnswerableFromMemory()) << "changed since";
  (void)Current();
  EXPECT_TRUE(cache_.AnswerableFromMemory());
  store_.set_load_error(absl::FailedPreconditionError("owned by uid 12345"));
  store_.Put(Creds("dgat_b"));
  (void)Current();
  EXPECT_FALSE(cache_.AnswerableFromMemory()) << "an unsafe file is explained by a full read";
}

TEST_F(CredentialsCacheTest, AnUnsavedTokenIsTheSessionAndItsSaveIsRetriedWithBackoff) {
  ASSERT_THAT(cache_.Save(Creds("dgat_old")), IsOk());
  store_.set_save_error(absl::InternalError("disk full"));
  cache_.KeepUnsaved(Creds("dgat_new"), "dgat_old", "disk full", clock_.BootTime());
  EXPECT_TRUE(cache_.unsaved());
  EXPECT_EQ(cache_.unsaved_error(), "disk full");
  EXPECT_EQ(cache_.unsaved_due(), clock_.BootTime() + absl::Seconds(5));
  EXPECT_EQ(Current()->token(), "dgat_new") << "used although the file still has the old one";
  EXPECT_FALSE(cache_.RetryUnsaved(clock_.BootTime()));
  EXPECT_EQ(cache_.unsaved_due(), clock_.BootTime() + absl::Seconds(10));
  store_.set_save_error(absl::OkStatus());
  EXPECT_TRUE(cache_.RetryUnsaved(clock_.BootTime()));
  EXPECT_FALSE(cache_.unsaved());
  EXPECT_EQ(cache_.unsaved_due(), absl::InfiniteFuture());
  EXPECT_EQ(store_.stored()->token(), "dgat_new");
}

TEST_F(CredentialsCacheTest, AnOrgSwitchBehindTheBackKeepsTheUnsavedTokens) {
  ASSERT_THAT(cache_.Save(Creds("dgat_old")), IsOk());
  cache_.KeepUnsaved(Creds("dgat_new"), "dgat_old", "disk full", clock_.BootTime());
  store_.Put(Creds("dgat_old", "b"));  // another agent switched the organization
  absl::StatusOr<agent::v1::Credentials> current = Current();
  ASSERT_THAT(current, IsOk());
  EXPECT_EQ(current->token(), "dgat_new");
  EXPECT_EQ(current->active_org_slug(), "b");
  EXPECT_TRUE(cache_.unsaved());
  // Any other change (another login) gives them up.
  store_.Put(Creds("dgat_other"));
  EXPECT_EQ(Current()->token(), "dgat_other");
  EXPECT_FALSE(cache_.unsaved());
}

}  // namespace
}  // namespace datagen
