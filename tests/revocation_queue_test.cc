// The revocation queue: each token is kept until its issuer accepts it, retried with backoff,
// and never lost to another agent sharing the file, to a corrupt or foreign file, or to a write
// that fails.
#include "agent/store/revocation_queue.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace datagen {
namespace {

using ::datagen::testing::FakeClock;
using ::datagen::testing::IsOk;
using ::datagen::testing::ReadFile;
using ::datagen::testing::StatusIs;
using ::datagen::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kIssuerA[] = "https://a.example";
constexpr char kIssuerB[] = "https://b.example";

RevocationQueue::Token Access(std::string token, std::string issuer = kIssuerA) {
  return {std::move(token), "access_token", std::move(issuer)};
}

// Runs `body` in a child process (as `uid` when not -1) and returns its exit code: the body
// returns 0 for success or the number of the check that failed.
int InChild(uid_t uid, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (uid != static_cast<uid_t>(-1) &&
        (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)) {
      _exit(100);
    }
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class RevocationQueueTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.path() + "/pending-revocations.json"; }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(RevocationQueueTest, KeepsATokenUntilItsIssuerAcceptsIt) {
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  ASSERT_THAT(queue.Add({Access("dgat_a"), Access("dgat_b", kIssuerB)}), IsOk());
  std::vector<std::string> asked;
  EXPECT_EQ(queue.RetryDue([&](const RevocationQueue::Token& t) {
    asked.push_back(absl::StrCat(t.token, "@", t.api_url));
    return t.api_url == kIssuerA ? absl::OkStatus() : absl::UnavailableError("no route");
  }),
            1);
  EXPECT_THAT(asked, ::testing::UnorderedElementsAre("dgat_a@https://a.example",
                                                     "dgat_b@https://b.example"));
  EXPECT_FALSE(queue.Contains("dgat_a"));
  EXPECT_TRUE(queue.Contains("dgat_b"));
  // What is on disk is what another agent (or the next start) sees.
  RevocationQueue reread(path(), getuid(), clock_, testing::NoJitter());
  EXPECT_EQ(reread.size(), 1);
  EXPECT_TRUE(reread.Contains("dgat_b"));
}

TEST_F(RevocationQueueTest, ATokenRefusedForGoodLeavesTheQueue) {
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  ASSERT_THAT(queue.Add({Access("dgat_a")}), IsOk());
  EXPECT_EQ(queue.RetryDue([](const auto&) { return absl::InvalidArgumentError("HTTP 400"); }), 0);
  EXPECT_EQ(queue.size(), 0);
}

// The agent stopping mid-request (its transport cancels every exchange) is no refusal: the token
// stays queued for the next agent.
TEST_F(RevocationQueueTest, ARevocationCutShortByTheAgentStoppingStaysQueued) {
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  ASSERT_THAT(queue.Add({Access("dgat_a")}), IsOk());
  EXPECT_EQ(queue.RetryDue([](const auto&) { return absl::CancelledError("stopping"); }), 1);
  EXPECT_TRUE(queue.Contains("dgat_a"));
  EXPECT_TRUE(RevocationQueue::WorthRetrying(absl::CancelledError("stopping")));
  EXPECT_FALSE(RevocationQueue::WorthRetrying(absl::InvalidArgumentError("HTTP 400")));
}

TEST_F(RevocationQueueTest, BacksOffFromFiveSecondsDoublingToTenMinutes) {
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  // The longest of each jittered range (random 1.0): the backoff itself.
  EXPECT_EQ(queue.RetryDelay(1), absl::Seconds(5));
  EXPECT_EQ(queue.RetryDelay(2), absl::Seconds(10));
  EXPECT_EQ(queue.RetryDelay(3), absl::Seconds(20));
  EXPECT_EQ(queue.RetryDelay(7), absl::Seconds(320));
  EXPECT_EQ(queue.RetryDelay(8), absl::Minutes(10));  // 640 s, capped
  EXPECT_EQ(queue.RetryDelay(50), absl::Minutes(10));
}

// Full jitter (issue 21, finding 10): each retry waits a share of the backoff drawn from the
// injected randomness, never under a second, so agents that failed together spread out.
TEST_F(RevocationQueueTest, EachRetryWaitsAJitteredShareOfTheBackoff) {
  FixedRandom bottom(0.0), middle(0.5);
  RevocationQueue low(path(), getuid(), clock_, bottom);
  EXPECT_EQ(low.RetryDelay(1), absl::Seconds(1));
  EXPECT_EQ(low.RetryDelay(8), absl::Seconds(1));
  RevocationQueue mid(path(), getuid(), clock_, middle);
  EXPECT_EQ(mid.RetryDelay(1), absl::Seconds(3));      // 1 + (5 - 1) / 2
  EXPECT_EQ(mid.RetryDelay(8), absl::Seconds(300.5));  // 1 + (600 - 1) / 2
}

TEST_F(RevocationQueueTest, RetriesFollowTheBackoff) {
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  ASSERT_THAT(queue.Add({Access("dgat_a")}), IsOk());
  int tries = 0;
  auto unreachable = [&](const auto&) {
    ++tries;
    return absl::UnavailableError("no route");
  };
  EXPECT_LE(queue.NextDue(), clock_.BootTime());  // new: due at once
  queue.RetryDue(unreachable);
  EXPECT_EQ(queue.NextDue(), clock_.BootTime() + absl::Seconds(5));
  queue.RetryDue(unreachable);  // not due yet: not tried
  EXPECT_EQ(tries, 1);
  // The wall clock stepping forward an hour does not make it due: backoff is monotonic.
  clock_.StepWall(absl::Hours(1));
  queue.RetryDue(unreachable);
  EXPECT_EQ(tries, 1);
  clock_.Advance(absl::Seconds(5));
  queue.RetryDue(unreachable);
  EXPECT_EQ(tries, 2);
  EXPECT_EQ(queue.NextDue(), clock_.BootTime() + absl::Seconds(10));
}

TEST_F(RevocationQueueTest, TwoQueuesOverOneFileKeepEachOthersEntries) {
  // Two agents (two sockets) over one credentials folder.
  RevocationQueue first(path(), getuid(), clock_, testing::NoJitter());
  RevocationQueue second(path(), getuid(), clock_, testing::NoJitter());
  ASSERT_THAT(first.Add({Access("dgat_first")}), IsOk());
  ASSERT_THAT(second.Add({Access("dgat_second")}), IsOk());
  first.Reload();
  EXPECT_TRUE(first.Contains("dgat_second"));
  // The first revokes what it sees; the second's entry, added meanwhile, survives.
  ASSERT_THAT(second.Add({Access("dgat_later")}), IsOk());
  first.RetryDue([](const RevocationQueue::Token& t) {
    return t.token == "dgat_first" ? absl::OkStatus() : absl::UnavailableError("offline");
  });
  RevocationQueue reread(path(), getuid(), clock_, testing::NoJitter());
  EXPECT_FALSE(reread.Contains("dgat_first"));
  EXPECT_TRUE(reread.Contains("dgat_second"));
  EXPECT_TRUE(reread.Contains("dgat_later"));
}

TEST_F(RevocationQueueTest, TwoProcessesAddingAtOnceLoseNothing) {
  constexpr int kEach = 40;
  auto add_many = [&](const std::string& prefix) {
    return [&, prefix] {
      RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
      for (int i = 0; i < kEach; ++i) {
        if (!queue.Add({Access(absl::StrCat(prefix, i))}).ok()) return 1;
      }
      return 0;
    };
  };
  pid_t a = fork();
  if (a == 0) _exit(add_many("dgat_a")());
  int b_code = InChild(-1, add_many("dgat_b"));
  int a_status = 0;
  waitpid(a, &a_status, 0);
  ASSERT_EQ(b_code, 0);
  ASSERT_TRUE(WIFEXITED(a_status) && WEXITSTATUS(a_status) == 0);
  RevocationQueue reread(path(), getuid(), clock_, testing::NoJitter());
  EXPECT_EQ(reread.size(), 2 * kEach);
  for (int i = 0; i < kEach; ++i) {
    EXPECT_TRUE(reread.Contains(absl::StrCat("dgat_a", i)));
    EXPECT_TRUE(reread.Contains(absl::StrCat("dgat_b", i)));
  }
}

TEST_F(RevocationQueueTest, ACorruptFileIsMovedAsideAndNewEntriesStillKept) {
  testing::WriteFile(path(), "{not json");
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  ASSERT_THAT(queue.Add({Access("dgat_a")}), IsOk());
  EXPECT_TRUE(queue.Contains("dgat_a"));
  int aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    if (entry.path().filename().string().rfind("pending-revocations.json.corrupt-", 0) == 0) {
      ++aside;
      EXPECT_EQ(ReadFile(entry.path()), "{not json");
    }
  }
  EXPECT_EQ(aside, 1);
}

TEST_F(RevocationQueueTest, AFileOfAnotherOwnerIsNeverOverwritten) {
  testing::WriteFile(path(), "{\"items\":[]}\n");
  ASSERT_EQ(chown(path().c_str(), 12345, 12345), 0);
  RevocationQueue queue(path(), getuid(), clock_, testing::NoJitter());
  EXPECT_THAT(queue.Add({Access("dgat_a")}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("uid 12345")));
  struct stat st;
  ASSERT_EQ(stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 12345u);
  EXPECT_EQ(ReadFile(path()), "{\"items\":[]}\n");
}

TEST_F(RevocationQueueTest, AWriteThatFailsAddsNothingAndKeepsWhatWasThere) {
  // As a second uid: root ignores file modes, so a read-only folder only fails for a user.
  const uid_t nobody = 65534;
  ASSERT_EQ(chown(dir_.path().c_str(), nobody, nobody), 0);
  int failed_check = InChild(nobody, [&] {
    RevocationQueue queue(path(), nobody, clock_, testing::NoJitter());
    if (!queue.Add({Access("dgat_kept")}).ok()) return 1;
    if (chmod(dir_.path().c_str(), 0500) != 0) return 2;
    absl::Status added = queue.Add({Access("dgat_more")});
    if (added.ok()) return 3;
    if (queue.Contains("dgat_more")) return 4;  // an error means nothing was added
    if (!queue.Contains("dgat_kept")) return 5;
    // Revoking fails to write too: the revoked token stays recorded, to be retried, rather
    // than the file and memory disagreeing.
    queue.RetryDue([](const auto&) { return absl::OkStatus(); });
    RevocationQueue reread(path(), nobody, clock_, testing::NoJitter());
    if (!reread.Contains("dgat_kept")) return 6;
    return 0;
  });
  chmod(dir_.path().c_str(), 0700);
  EXPECT_EQ(failed_check, 0);
}

}  // namespace
}  // namespace datagen
