#include "agent/session/session.h"

#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "agent/common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/agent_harness.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using testing::FakeClock;
using testing::FakeHttpTransport;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::MemoryCredentialStore;
using testing::StatusIs;

using testing::AgentHarness;
using testing::kIssuer;
using testing::kOtherIssuer;
using testing::kYou;
constexpr const char* kUserinfo = testing::kUserinfoEndpoint;
constexpr const char* kRevoke = testing::kRevokeEndpoint;
constexpr const char* kToken = testing::kTokenEndpoint;

// A session stored at `stored` whose access token lives `lifetime`.
void SetExpiry(agent::v1::Credentials* c, absl::Time stored, absl::Duration lifetime) {
  c->mutable_stored_at()->set_seconds(absl::ToUnixSeconds(stored));
  c->mutable_token_expires_at()->set_seconds(absl::ToUnixSeconds(stored + lifetime));
}

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    harness_.gate().Open();
    http_.Reply(kUserinfo, 200, kYou);
  }

  void SignIn(const std::string& org = "yourcompany") {
    agent::v1::Credentials c;
    c.set_api_url(testing::kIssuer);  // recorded by every login
    c.set_token("dgat_tok");
    c.set_email("you@yourcompany.com");
    c.set_active_org_slug(org);
    c.set_api_url(kIssuer);
    store_.Put(c);
  }

  // Signs in with access token dgat_1 expiring in `lifetime` and refresh token dgrt_1.
  void SignInWithRefresh(absl::Duration lifetime) {
    agent::v1::Credentials c;
    c.set_api_url(testing::kIssuer);  // recorded by every login
    c.set_token("dgat_1");
    c.set_refresh_token("dgrt_1");
    SetExpiry(&c, clock_.Now(), lifetime);
    store_.Put(c);
  }

  // The agent's own wiring (background work off: tests run DoDueWork themselves).
  AgentHarness harness_;
  FakeHttpTransport& http_ = harness_.http();
  FakeClock& clock_ = harness_.clock();
  MemoryCredentialStore& store_ = harness_.store();
  Issuers& issuers_ = harness_.agent().issuers();
  RevocationQueue& revocations_ = harness_.agent().revocations();
  Session& session_ = harness_.session();
};

TEST_F(SessionTest, SignedOutIsUnauthenticatedWithoutTouchingTheNetwork) {
  EXPECT_THAT(session_.Status(), StatusIs(absl::StatusCode::kUnauthenticated, "not signed in"));
  EXPECT_THAT(session_.ListOrgs(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(session_.UseOrg("yourcompany"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(SessionTest, StatusReportsTheRoleInTheActiveOrg) {
  SignIn("test-org");
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->email(), "you@yourcompany.com");
  EXPECT_EQ(status->active_org_slug(), "test-org");
  EXPECT_EQ(status->role(), "member");
  EXPECT_EQ(status->api_url(), kIssuer);
}

TEST_F(SessionTest, StatusWarnsWhenNoLongerAMemberOfTheActiveOrg) {
  SignIn("gone-org");
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->role(), "");
  ASSERT_EQ(status->warnings_size(), 1);
  EXPECT_THAT(status->warnings(0), HasSubstr("no longer a member"));
}

TEST_F(SessionTest, ListOrgsMarksTheActiveOne) {
  SignIn();
  auto orgs = session_.ListOrgs();
  ASSERT_THAT(orgs, IsOk());
  ASSERT_EQ(orgs->memberships_size(), 2);
  EXPECT_TRUE(orgs->memberships(0).active());
  EXPECT_FALSE(orgs->memberships(1).active());
}

TEST_F(SessionTest, UseOrgSavesOnlyForAMember) {
  SignIn();
  auto used = session_.UseOrg("test-org");
  ASSERT_THAT(used, IsOk());
  EXPECT_EQ(used->role(), "member");
  EXPECT_EQ(store_.stored()->active_org_slug(), "test-org");
  EXPECT_EQ(store_.stored()->token(), "dgat_tok");

  std::string before = store_.stored()->SerializeAsString();
  EXPECT_THAT(session_.UseOrg("acme"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("your organizations: yourcompany, test-org")));
  EXPECT_THAT(session_.UseOrg("bad slug"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store_.stored()->SerializeAsString(), before);
}

TEST_F(SessionTest, UseOrgReportsAFailedSaveAndKeepsTheOldState) {
  SignIn();
  store_.set_save_error(absl::InternalError("disk full"));
  EXPECT_THAT(session_.UseOrg("test-org"), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(store_.stored()->active_org_slug(), "yourcompany");
}

TEST_F(SessionTest, AnswersFromMemoryWithinTheStalenessBound) {
  Session cached(store_, issuers_, revocations_, clock_, testing::NoJitter(), absl::Seconds(60));
  SignIn();
  ASSERT_THAT(cached.Status(), IsOk());
  clock_.Advance(absl::Seconds(59));
  for (int i = 0; i < 100; ++i) ASSERT_THAT(cached.Status(), IsOk());
  ASSERT_THAT(cached.ListOrgs(), IsOk());
  EXPECT_EQ(http_.CountTo(kUserinfo), 1) << "one server round trip per staleness period";
  ASSERT_THAT(cached.Status(/*verify=*/true), IsOk());
  EXPECT_EQ(http_.CountTo(kUserinfo), 2);
  clock_.Advance(absl::Seconds(60));
  http_.SetReply(kUserinfo, 401, R"({"error":"invalid_token"})");
  absl::StatusOr<agent::v1::GetStatusResponse> stale = cached.Status();
  ASSERT_THAT(stale, IsOk()) << "past the bound: answered at once, marked unverified";
  EXPECT_TRUE(stale->unverified());
  EXPECT_EQ(http_.CountTo(kUserinfo), 2) << "no round trip on the caller's time";
  cached.DoDueWork();  // the background confirmation
  EXPECT_EQ(http_.CountTo(kUserinfo), 3);
  EXPECT_THAT(cached.Status(), StatusIs(absl::StatusCode::kUnauthenticated))
      << "a revoked token is noticed by the next call after the confirmation";
}

// Stale-while-revalidate: past the bound, Status and ListOrgs answer from memory at once,
// marked unverified with the time of the last confirmation, and one background confirmation
// (DoDueWork) makes them confirmed again.
TEST_F(SessionTest, PastTheBoundAnswersAtOnceMarkedUnverifiedAndConfirmsInTheBackground) {
  Session cached(store_, issuers_, revocations_, clock_, testing::NoJitter(), absl::Seconds(60));
  SignIn();
  absl::Time first = clock_.Now();
  absl::StatusOr<agent::v1::GetStatusResponse> status = cached.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->unverified());
  EXPECT_EQ(ToTime(status->verified_at()), first);
  EXPECT_TRUE(status->warnings().empty());

  clock_.Advance(absl::Seconds(61));
  for (int i = 0; i < 3; ++i) {
    status = cached.Status();
    ASSERT_THAT(status, IsOk());
    EXPECT_TRUE(status->unverified());
    EXPECT_EQ(ToTime(status->verified_at()), first);
    EXPECT_EQ(status->email(), "you@yourcompany.com");
    EXPECT_EQ(status->role(), "admin");
    ASSERT_EQ(status->warnings_size(), 1);
    EXPECT_THAT(status->warnings(0), HasSubstr("the agent is confirming it again now"));
  }
  absl::StatusOr<agent::v1::ListOrgsResponse> orgs = cached.ListOrgs();
  ASSERT_THAT(orgs, IsOk());
  EXPECT_TRUE(orgs->unverified());
  EXPECT_EQ(orgs->memberships_size(), 2);
  std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> memory = cached.TryStatusFromMemory();
  ASSERT_TRUE(memory.has_value()) << "the hot path answers a stale identity too";
  EXPECT_EQ((*memory)->DebugString(), status->DebugString());
  EXPECT_EQ(http_.CountTo(kUserinfo), 1);

  cached.DoDueWork();
  EXPECT_EQ(http_.CountTo(kUserinfo), 2) << "one confirmation, however many calls asked";
  cached.DoDueWork();
  EXPECT_EQ(http_.CountTo(kUserinfo), 2) << "nothing asked since";
  status = cached.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->unverified());
  EXPECT_EQ(ToTime(status->verified_at()), clock_.Now());
  EXPECT_TRUE(status->warnings().empty());
}

TEST_F(SessionTest, AServerThatCannotBeReachedLeavesTheAnswerUnverifiedWithTheReason) {
  Session cached(store_, issuers_, revocations_, clock_, testing::NoJitter(), absl::Seconds(60));
  SignIn();
  absl::Time first = clock_.Now();
  ASSERT_THAT(cached.Status(), IsOk());
  clock_.Advance(absl::Minutes(5));
  http_.SetFail(kUserinfo, absl::UnavailableError("connection refused"));
  ASSERT_THAT(cached.Status(), IsOk());
  cached.DoDueWork();
  absl::StatusOr<agent::v1::GetStatusResponse> status = cached.Status();
  ASSERT_THAT(status, IsOk()) << "the server being down is not the user being signed out";
  EXPECT_TRUE(status->unverified());
  EXPECT_EQ(ToTime(status->verified_at()), first);
  ASSERT_EQ(status->warnings_size(), 1);
  EXPECT_THAT(status->warnings(0),
              HasSubstr("connection refused; shown as the server confirmed it at "));
  EXPECT_THAT(cached.Status(/*verify=*/true), StatusIs(absl::StatusCode::kUnavailable))
      << "--verify keeps its meaning";

  http_.SetReply(kUserinfo, 200, kYou);  // back
  ASSERT_THAT(cached.Status(), IsOk());
  cached.DoDueWork();
  status = cached.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->unverified());
  EXPECT_TRUE(status->warnings().empty());
}

TEST_F(SessionTest, NothingKnownAndTheServerDownStatusAnswersFromTheFileListOrgsCannot) {
  SignIn();
  http_.SetFail(kUserinfo, absl::UnavailableError("connection refused"));
  absl::StatusOr<agent::v1::GetStatusResponse> status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_TRUE(status->unverified());
  EXPECT_FALSE(status->has_verified_at()) << "never confirmed since the agent started";
  EXPECT_EQ(status->email(), "you@yourcompany.com");
  EXPECT_EQ(status->active_org_slug(), "yourcompany");
  EXPECT_EQ(status->role(), "");
  ASSERT_EQ(status->warnings_size(), 1) << status->DebugString();
  EXPECT_THAT(status->warnings(0), HasSubstr("shown as stored in the credentials file"));
  EXPECT_THAT(session_.ListOrgs(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(session_.Status(/*verify=*/true), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(SessionTest, ReloadsOnlyWhenTheStoreChanged) {
  SignIn();
  int before = store_.loads();
  ASSERT_THAT(session_.Status(), IsOk());
  ASSERT_THAT(session_.Status(), IsOk());
  EXPECT_EQ(store_.loads(), before + 1);
  SignIn("test-org");  // behind the agent's back
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->active_org_slug(), "test-org");
  EXPECT_EQ(store_.loads(), before + 2);
}

TEST_F(SessionTest, CorruptOrUnsafeStoreErrorsPassThrough) {
  store_.set_load_error(absl::DataLossError("moved aside"));
  EXPECT_THAT(session_.Status(), StatusIs(absl::StatusCode::kDataLoss));
  store_.set_load_error(absl::FailedPreconditionError("symlink"));
  EXPECT_THAT(session_.Logout(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SessionTest, LogoutDeletesThenRevokesBothTokens) {
  agent::v1::Credentials c;
  c.set_api_url(testing::kIssuer);  // recorded by every login
  c.set_token("dgat_access");
  c.set_refresh_token("dgrt_refresh");
  store_.Put(c);
  http_.Reply(kRevoke, 200, "");
  auto out = session_.Logout();
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->status(), "logged_out");
  EXPECT_TRUE(out->revoked());
  EXPECT_FALSE(store_.stored().has_value());
  std::vector<std::string> bodies;
  for (const HttpRequest& r : http_.requests()) {
    if (r.url == kRevoke) bodies.push_back(r.body);
  }
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_THAT(bodies[0], HasSubstr("token=dgat_access&token_type_hint=access_token"));
  EXPECT_THAT(bodies[1], HasSubstr("token=dgrt_refresh&token_type_hint=refresh_token"));
}

TEST_F(SessionTest, LogoutWithTheServerDownStillDeletes) {
  SignIn();
  http_.Fail(kRevoke, absl::UnavailableError("could not reach id.example"));
  auto out = session_.Logout();
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->status(), "logged_out");
  EXPECT_FALSE(out->revoked());
  EXPECT_THAT(out->revocation_error(), HasSubstr("could not reach"));
  EXPECT_FALSE(store_.stored().has_value());
  auto again = session_.Logout();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->status(), "no_credential");
}

// kill -9 between the two durable steps of a logout (tokens queued, file not yet removed): the
// next agent finishes the logout instead of serving a token it is about to revoke.
TEST_F(SessionTest, FinishesALogoutCutShortBeforeTheFileWasRemoved) {
  SignIn();  // the file a killed logout left behind...
  ASSERT_THAT(revocations_.Add({{"dgat_tok", "access_token", ""}}),
              IsOk());  // ...with its token queued
  agent::v1::Credentials left = *store_.stored();
  Session next_agent(store_, issuers_, revocations_, clock_, testing::NoJitter());
  EXPECT_THAT(next_agent.Status(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_FALSE(store_.stored().has_value());
  EXPECT_EQ(revocations_.size(), 1);  // still to be revoked
  // A file put back by hand later, with that same token, is the user's: it is served.
  store_.Put(left);
  EXPECT_THAT(next_agent.Status(), IsOk());
}

// Records every event a watcher receives.
// Watches `session` for its own life (a watcher left registered past its end would be called
// when the agent stops: SESSION_CHANGE_AGENT_STOPPING).
class RecordingWatcher final : public Session::Watcher {
 public:
  explicit RecordingWatcher(Session& session) : session_(session) {
    handle_ = session_.AddWatcher(this);
  }
  ~RecordingWatcher() override { session_.RemoveWatcher(handle_); }
  void OnSessionEvent(const agent::v1::WatchEvent& event) override { events.push_back(event); }
  std::vector<agent::v1::SessionChange> changes() const {
    std::vector<agent::v1::SessionChange> out;
    for (const auto& e : events) out.push_back(e.change());
    return out;
  }
  std::vector<agent::v1::WatchEvent> events;

 private:
  Session& session_;
  uint64_t handle_ = 0;
};

TEST_F(SessionTest, WatchersGetTheStateFirstThenEveryChangeWithIncreasingGenerations) {
  RecordingWatcher watcher(session_);
  ASSERT_EQ(watcher.events.size(), 1u);
  EXPECT_EQ(watcher.events[0].change(), agent::v1::SESSION_CHANGE_INITIAL);
  EXPECT_EQ(watcher.events[0].session().state(), agent::v1::SESSION_STATE_SIGNED_OUT);

  IssuedTokens tokens;
  tokens.access_token = "dgat_new";
  ASSERT_THAT(session_.CompleteLogin(tokens, kIssuer), IsOk());
  ASSERT_THAT(session_.UseOrg("test-org"), IsOk());
  agent::v1::Credentials edited = *store_.stored();
  edited.set_active_org_slug("yourcompany");
  store_.Put(edited);  // by hand, behind the agent's back
  session_.CheckFile();
  http_.Reply(kRevoke, 200, "");
  ASSERT_THAT(session_.Logout(), IsOk());

  EXPECT_THAT(watcher.changes(),
              ::testing::ElementsAre(
                  agent::v1::SESSION_CHANGE_INITIAL, agent::v1::SESSION_CHANGE_SIGNED_IN,
                  agent::v1::SESSION_CHANGE_ORG_SWITCHED, agent::v1::SESSION_CHANGE_FILE_CHANGED,
                  agent::v1::SESSION_CHANGE_SIGNED_OUT, agent::v1::SESSION_CHANGE_REVOCATIONS));
  for (size_t i = 1; i < watcher.events.size(); ++i) {
    EXPECT_EQ(watcher.events[i].generation(), watcher.events[i - 1].generation() + 1);
  }
  EXPECT_EQ(watcher.events[2].session().active_org_slug(), "test-org");
  EXPECT_EQ(watcher.events[3].session().active_org_slug(), "yourcompany");
  EXPECT_EQ(watcher.events[4].session().state(), agent::v1::SESSION_STATE_SIGNED_OUT);
  EXPECT_EQ(watcher.events[5].session().revocations_pending(), 0);
  for (const auto& e : watcher.events) {
    EXPECT_EQ(e.DebugString().find("dgat_"), std::string::npos) << "no token in any event";
  }
}

// Issue 22, bug 8: the signed_in event carried the finished login's user_code.
TEST_F(SessionTest, TheSignedInEventCarriesNoFinishedLoginsCode) {
  RecordingWatcher watcher(session_);
  agent::v1::DeviceCode code;
  code.set_user_code("ABCD-EFGH");
  session_.NoteLoginPending(code);
  IssuedTokens tokens;
  tokens.access_token = "dgat_new";
  ASSERT_THAT(session_.CompleteLogin(tokens, kIssuer), IsOk());
  session_.NoteLoginEnded();
  ASSERT_GE(watcher.events.size(), 3u);
  EXPECT_EQ(watcher.events[2].change(), agent::v1::SESSION_CHANGE_SIGNED_IN);
  EXPECT_FALSE(watcher.events[2].session().has_pending_login());
  for (const auto& e : watcher.events) {
    if (e.change() != agent::v1::SESSION_CHANGE_LOGIN_PENDING) {
      EXPECT_FALSE(e.session().has_pending_login()) << e.DebugString();
    }
  }
}

TEST_F(SessionTest, ALoginWaitingForApprovalIsVisibleToWatchers) {
  RecordingWatcher watcher(session_);
  agent::v1::DeviceCode code;
  code.set_user_code("ABCD-EFGH");
  session_.NoteLoginPending(code);
  session_.NoteLoginEnded();
  ASSERT_EQ(watcher.events.size(), 3u);
  EXPECT_EQ(watcher.events[1].change(), agent::v1::SESSION_CHANGE_LOGIN_PENDING);
  EXPECT_EQ(watcher.events[1].session().pending_login().user_code(), "ABCD-EFGH");
  EXPECT_EQ(watcher.events[2].change(), agent::v1::SESSION_CHANGE_LOGIN_ENDED);
  EXPECT_FALSE(watcher.events[2].session().has_pending_login());
}

TEST_F(SessionTest, RefreshesAheadOfExpiryAndSavesTheRotatedRefreshToken) {
  SignInWithRefresh(absl::Minutes(20));
  // Not due yet: due a quarter of the lifetime (5 min) before expiry.
  EXPECT_EQ(session_.DoDueWork(), clock_.Now() + absl::Minutes(15));
  EXPECT_EQ(http_.CountTo(kToken), 0);
  clock_.Advance(absl::Minutes(15));
  http_.Reply(kToken, 200,
              R"({"access_token":"dgat_2","token_type":"Bearer","expires_in":1200,
                  "refresh_token":"dgrt_2"})");
  RecordingWatcher watcher(session_);
  absl::Time next = session_.DoDueWork();
  EXPECT_EQ(store_.stored()->token(), "dgat_2");
  EXPECT_EQ(store_.stored()->refresh_token(), "dgrt_2");
  EXPECT_EQ(next, clock_.Now() + absl::Minutes(15));
  HttpRequest sent = http_.requests().back();
  EXPECT_EQ(sent.body, "grant_type=refresh_token&refresh_token=dgrt_1&client_id=datagen-cli");
  ASSERT_EQ(watcher.events.size(), 2u);
  EXPECT_EQ(watcher.events[1].change(), agent::v1::SESSION_CHANGE_TOKEN_REFRESHED);
}

// Issue 21, finding 9: a laptop suspended for two hours (monotonic time frozen, boot and wall
// time moved on) finds its refresh overdue and its identity stale when it wakes, not "ten
// minutes later".
TEST_F(SessionTest, ASuspendMakesTheRefreshDueAndTheIdentityStale) {
  Session cached(store_, issuers_, revocations_, clock_, testing::NoJitter(), absl::Seconds(60));
  SignIn();  // no expiry: only the identity's age matters here
  ASSERT_THAT(cached.Status(), IsOk());
  clock_.Advance(absl::Seconds(10));
  absl::StatusOr<agent::v1::GetStatusResponse> fresh = cached.Status();
  ASSERT_THAT(fresh, IsOk());
  EXPECT_FALSE(fresh->unverified());
  const absl::Time monotonic_before = clock_.Monotonic();
  clock_.Suspend(absl::Hours(2));
  ASSERT_EQ(clock_.Monotonic(), monotonic_before);
  absl::StatusOr<agent::v1::GetStatusResponse> after = cached.Status();
  ASSERT_THAT(after, IsOk());
  EXPECT_TRUE(after->unverified()) << "confirmed two hours ago, not ten seconds ago";

  // A refresh that fell due during the suspend runs at the first look after it.
  SignInWithRefresh(absl::Minutes(20));
  EXPECT_EQ(cached.DoDueWork(), clock_.BootTime() + absl::Minutes(15));
  clock_.Suspend(absl::Hours(2));
  http_.Reply(kToken, 200,
              R"({"access_token":"dgat_2","token_type":"Bearer","expires_in":1200,
                  "refresh_token":"dgrt_2"})");
  cached.DoDueWork();
  EXPECT_EQ(http_.CountTo(kToken), 1);
  EXPECT_EQ(store_.stored()->token(), "dgat_2");
}

// Issue 22, bug 1: "expired" stuck to the token's value. Against a server that issues the same
// token string at a new login, a login after logout said "expired" forever, and --verify sent
// no request while the server accepted the token. A new login, and --verify, ask afresh.
TEST_F(SessionTest, ANewLoginAndVerifyAlwaysAskAfreshAboutATokenOnceRefused) {
  SignIn();  // dgat_tok
  http_.SetReply(kUserinfo, 401, R"({"error":"invalid_token"})");
  EXPECT_THAT(session_.Status(/*verify=*/true), StatusIs(absl::StatusCode::kUnauthenticated));
  // The server accepts it again (it was a glitch): --verify asks, and the session is back.
  http_.SetReply(kUserinfo, 200, kYou);
  int asked = http_.CountTo(kUserinfo);
  EXPECT_THAT(session_.Status(/*verify=*/true), IsOk());
  EXPECT_EQ(http_.CountTo(kUserinfo), asked + 1) << "--verify sent no request";
  EXPECT_THAT(session_.Status(), IsOk());
  // Refused again; logout; a new login that gets the very same token string.
  http_.SetReply(kUserinfo, 401, R"({"error":"invalid_token"})");
  EXPECT_THAT(session_.Status(/*verify=*/true), StatusIs(absl::StatusCode::kUnauthenticated));
  http_.Reply(kRevoke, 200, "");
  ASSERT_THAT(session_.Logout(), IsOk());
  http_.SetReply(kUserinfo, 200, kYou);
  IssuedTokens tokens;
  tokens.access_token = "dgat_tok";
  ASSERT_THAT(session_.CompleteLogin(tokens, kIssuer), IsOk());
  EXPECT_THAT(session_.Status(), IsOk());
  EXPECT_THAT(session_.Status(/*verify=*/true), IsOk());
  EXPECT_THAT(session_.GetToken(), IsOk());
}

TEST_F(SessionTest, ARefusedRefreshExpiresTheSession) {
  SignInWithRefresh(absl::Minutes(4));
  http_.Reply(kToken, 400, R"({"error":"invalid_grant","error_description":"revoked"})");
  RecordingWatcher watcher(session_);
  clock_.Advance(absl::Minutes(3) + absl::Seconds(1));
  EXPECT_EQ(session_.DoDueWork(), absl::InfiniteFuture()) << "nothing more to do";
  ASSERT_EQ(watcher.events.size(), 2u);
  EXPECT_EQ(watcher.events[1].change(), agent::v1::SESSION_CHANGE_EXPIRED);
  EXPECT_EQ(watcher.events[1].session().state(), agent::v1::SESSION_STATE_EXPIRED);
  EXPECT_THAT(session_.Status(),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("your session expired")));
  EXPECT_THAT(session_.GetToken(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(store_.stored()->token(), "dgat_1") << "the file is kept; a new login replaces it";
}

TEST_F(SessionTest, TransientRefreshFailuresBackOffAndKeepTheSession) {
  SignInWithRefresh(absl::Minutes(4));
  http_.Fail(kToken, absl::UnavailableError("down"));
  clock_.Advance(absl::Minutes(3));
  // Unhurried in the background (a caller with an expired token refreshes at once).
  EXPECT_EQ(session_.DoDueWork(), clock_.Now() + absl::Minutes(10));
  EXPECT_THAT(session_.Status(), IsOk()) << "still usable until it expires";
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(session_.DoDueWork(), clock_.Now() + absl::Minutes(20));
}

TEST_F(SessionTest, GetTokenRefreshesATokenAboutToExpire) {
  SignInWithRefresh(absl::Minutes(30));
  auto token = session_.GetToken();
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->token(), "dgat_1");
  EXPECT_EQ(http_.CountTo(kToken), 0);
  clock_.Advance(absl::Minutes(29) + absl::Seconds(30));
  http_.Reply(kToken, 200, R"({"access_token":"dgat_2","token_type":"bearer","expires_in":1800})");
  token = session_.GetToken();
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->token(), "dgat_2");
  EXPECT_EQ(store_.stored()->refresh_token(), "dgrt_1") << "kept when none is issued";
}

// Single flight: callers that all found the token too old to hand out wait for one refresh;
// those that waited find a new token and send nothing (a server that revokes the grant on a
// reused refresh token would otherwise see a burst of refreshes, one per caller).
TEST_F(SessionTest, ParallelCallersOfAnOldTokenMakeOneRefresh) {
  SignInWithRefresh(absl::Minutes(30));
  clock_.Advance(absl::Minutes(29) + absl::Seconds(30));
  http_.SetReply(kToken, 200,
                 R"({"access_token":"dgat_2","token_type":"bearer","expires_in":1800,)"
                 R"("refresh_token":"dgrt_2"})");
  harness_.gate().Close();  // the first refresh waits there while the others arrive
  std::atomic<int> started{0};
  std::vector<std::string> got(20);
  std::vector<std::thread> callers;
  for (size_t i = 0; i < got.size(); ++i) {
    callers.emplace_back([&, i] {
      ++started;
      auto token = session_.GetToken();
      if (token.ok()) got[i] = token->token();
    });
  }
  harness_.gate().AwaitPoll();
  while (started.load() < 20) std::this_thread::yield();
  harness_.gate().Open();
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(http_.CountTo(kToken), 1) << "one refresh for every caller";
  for (const std::string& token : got) EXPECT_EQ(token, "dgat_2");
  EXPECT_EQ(store_.stored()->refresh_token(), "dgrt_2");
}

TEST_F(SessionTest, ARevocationThatFailsIsPersistedAndRetriedUntilAccepted) {
  agent::v1::Credentials c;
  c.set_api_url(testing::kIssuer);  // recorded by every login
  c.set_token("dgat_gone");
  c.set_refresh_token("dgrt_gone");
  store_.Put(c);
  http_.Fail(kRevoke, absl::UnavailableError("down"));
  http_.Fail(kRevoke, absl::UnavailableError("down"));
  http_.Reply(kRevoke, 200, "");  // once the server is back
  auto out = session_.Logout();
  ASSERT_THAT(out, IsOk());
  EXPECT_FALSE(out->revoked());
  EXPECT_THAT(out->revocation_error(), HasSubstr("keeps retrying"));
  EXPECT_EQ(revocations_.size(), 2) << "both tokens queued";
  EXPECT_THAT(session_.Status(),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("still await revocation")));
  // A restarted agent would read the same queue from its file.
  RevocationQueue reread(harness_.dir() + "/config/pending-revocations.json", getuid(), clock_,
                         testing::NoJitter());
  EXPECT_EQ(reread.size(), 2);
  absl::Time next = session_.DoDueWork();
  EXPECT_EQ(revocations_.size(), 0);
  EXPECT_EQ(next, absl::InfiniteFuture());
  EXPECT_NE(access((harness_.dir() + "/config/pending-revocations.json").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace datagen

namespace datagen {
namespace {

// --- Trust (issue 10) ----------------------------------------------------------------------

TEST_F(SessionTest, ASessionsTokensGoOnlyToTheIssuerThatIssuedIt) {
  agent::v1::Credentials c;
  c.set_api_url(testing::kIssuer);  // recorded by every login
  c.set_token("dgat_other");
  c.set_refresh_token("dgrt_other");
  c.set_email("you@yourcompany.com");
  c.set_active_org_slug("yourcompany");
  c.set_api_url(kOtherIssuer);
  store_.Put(c);
  http_.Reply("https://other.example/v1/me", 200, kYou);
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->api_url(), kOtherIssuer);
  EXPECT_EQ(status->configured_api_url(), kIssuer);
  ASSERT_EQ(status->warnings_size(), 1);
  EXPECT_THAT(status->warnings(0),
              HasSubstr("this session was issued by https://other.example, but the agent is "
                        "configured for https://id.example"));
  http_.Reply("https://other.example/oauth/revoke", 200, "");
  auto logout = session_.Logout();
  ASSERT_THAT(logout, IsOk());
  EXPECT_TRUE(logout->revoked());
  for (const HttpRequest& r : http_.requests()) {
    EXPECT_THAT(r.url, ::testing::Not(::testing::StartsWith(kIssuer))) << "sent to " << r.url;
  }
  EXPECT_EQ(http_.CountTo("https://other.example/oauth/revoke"), 2);
}

TEST_F(SessionTest, AFileWithoutAnIssuerBelongsToTheConfiguredOne) {
  SignIn();
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->api_url(), kIssuer);
  EXPECT_EQ(status->warnings_size(), 0);
}

// The 60 s staleness bound runs on the monotonic clock: setting the wall clock back does not
// keep a cached identity "fresh", and setting it forward does not expire it early.
TEST_F(SessionTest, TheStalenessBoundIgnoresWallClockSteps) {
  Session cached(store_, issuers_, revocations_, clock_, testing::NoJitter(), absl::Seconds(60));
  SignIn();
  ASSERT_THAT(cached.Status(), IsOk());
  EXPECT_EQ(http_.CountTo(kUserinfo), 1);
  clock_.StepWall(absl::Minutes(30));
  absl::StatusOr<agent::v1::GetStatusResponse> status = cached.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_FALSE(status->unverified()) << "a wall clock set forward expired the cache";
  clock_.StepWall(-absl::Hours(2));
  clock_.Advance(absl::Seconds(61));
  status = cached.Status();
  ASSERT_THAT(status, IsOk());
  EXPECT_TRUE(status->unverified()) << "a wall clock set back kept the cache fresh";
  cached.DoDueWork();
  EXPECT_EQ(http_.CountTo(kUserinfo), 2);
}

// With rotation the old refresh token is dead once the server answered: a refreshed token that
// cannot be saved is kept, used, reported, and saved as soon as that works.
TEST_F(SessionTest, ARefreshedTokenThatCannotBeSavedIsKeptUsedAndSavedLater) {
  agent::v1::Credentials c;
  c.set_api_url(testing::kIssuer);  // recorded by every login
  c.set_token("dgat_1");
  c.set_refresh_token("dgrt_1");
  c.set_email("you@yourcompany.com");
  c.set_active_org_slug("yourcompany");
  SetExpiry(&c, clock_.Now(), absl::Minutes(20));
  store_.Put(c);
  clock_.Advance(absl::Minutes(15));
  http_.Reply(kToken, 200,
              R"({"access_token":"dgat_2","token_type":"Bearer","expires_in":1200,
                  "refresh_token":"dgrt_2"})");
  store_.set_save_error(absl::InternalError("disk full"));
  absl::Time next = session_.DoDueWork();
  EXPECT_EQ(store_.stored()->token(), "dgat_1");          // not saved
  EXPECT_EQ(next, clock_.BootTime() + absl::Seconds(5));  // the save is retried
  auto token = session_.GetToken();
  ASSERT_THAT(token, IsOk());
  EXPECT_EQ(token->token(), "dgat_2");
  auto status = session_.Status();
  ASSERT_THAT(status, IsOk());
  ASSERT_EQ(status->warnings_size(), 1);
  EXPECT_THAT(status->warnings(0), HasSubstr("a refreshed token could not be saved (disk full)"));

  store_.set_save_error(absl::OkStatus());
  clock_.Advance(absl::Seconds(5));
  session_.DoDueWork();
  EXPECT_EQ(store_.stored()->token(), "dgat_2");
  EXPECT_EQ(store_.stored()->refresh_token(), "dgrt_2");
  status = session_.Status(/*verify=*/true);
  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(status->warnings_size(), 0);
  EXPECT_EQ(http_.CountTo(kToken), 1);  // the dead refresh token was never used again
}

TEST_F(SessionTest, AnApprovedLoginThatCannotBeSavedQueuesItsTokensForRevocation) {
  store_.set_save_error(absl::InternalError("disk full"));
  IssuedTokens tokens;
  tokens.access_token = "dgat_new";
  tokens.refresh_token = "dgrt_new";
  auto result = session_.CompleteLogin(tokens, kIssuer);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInternal,
                               HasSubstr("nothing was stored, and the new session's tokens were "
                                         "queued for revocation")));
  EXPECT_FALSE(store_.stored().has_value());
  EXPECT_TRUE(revocations_.Contains("dgat_new"));
  EXPECT_TRUE(revocations_.Contains("dgrt_new"));
  http_.Reply(kRevoke, 200, "");
  session_.DoDueWork();
  EXPECT_EQ(revocations_.size(), 0);
  EXPECT_EQ(http_.CountTo(kRevoke), 2);
}

TEST_F(SessionTest, AnApprovedLoginWhoseIdentityCannotBeReadQueuesItsTokensForRevocation) {
  http_.SetReply(kUserinfo, 503, "");
  IssuedTokens tokens;
  tokens.access_token = "dgat_new";
  auto result = session_.CompleteLogin(tokens, kIssuer);
  EXPECT_THAT(result,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("were queued for revocation")));
  EXPECT_TRUE(revocations_.Contains("dgat_new"));
}

TEST_F(SessionTest, EveryRewriteTakesTheStoresLock) {
  SignIn();
  int before = store_.locks();
  ASSERT_THAT(session_.UseOrg("test-org"), IsOk());
  EXPECT_EQ(store_.locks(), before + 1);
  http_.Reply(kRevoke, 200, "");
  ASSERT_THAT(session_.Logout(), IsOk());
  EXPECT_EQ(store_.locks(), before + 2);
}

}  // namespace
}  // namespace datagen

namespace datagen {
namespace {

// The memory path (TryStatusFromMemory, for prompts) and the full path (Status) build one
// reply: whenever memory can answer, it answers exactly what the full path does.
class StatusPathsTest : public SessionTest {
 protected:
  // Asks the full path (which fills the identity cache), then memory, and compares them.
  void ExpectBothPathsAgree(const std::string& what) {
    SCOPED_TRACE(what);
    absl::StatusOr<agent::v1::GetStatusResponse> full = cached_.Status(/*verify=*/true);
    std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> memory =
        cached_.TryStatusFromMemory();
    ASSERT_TRUE(memory.has_value()) << "memory could not answer";
    ASSERT_EQ(memory->status(), full.status());
    if (full.ok()) {
      EXPECT_EQ((*memory)->DebugString(), full->DebugString());
    }
  }

  Session cached_{store_, issuers_, revocations_, clock_, testing::NoJitter(), absl::Seconds(60)};
};

TEST_F(StatusPathsTest, AgreeSignedOutSignedInWithRevocationsPendingAndAtAnotherIssuer) {
  ExpectBothPathsAgree("signed out");
  SignIn("test-org");
  ExpectBothPathsAgree("signed in");
  ASSERT_THAT(revocations_.Add({{"dgat_ended", "access_token", kIssuer}}), IsOk());
  ExpectBothPathsAgree("with a revocation pending");
  agent::v1::Credentials elsewhere = *store_.stored();
  elsewhere.set_api_url("https://other.example");
  store_.Put(elsewhere);
  http_.Reply("https://other.example/v1/me", 200, kYou);
  ExpectBothPathsAgree("issued by another server than the configured one");
}

TEST_F(StatusPathsTest, AgreeOnAnExpiredSession) {
  SignIn();
  ASSERT_THAT(cached_.Status(), IsOk());
  http_.SetReply(kUserinfo, 401, "");
  absl::Status first = cached_.Status(/*verify=*/true).status();
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnauthenticated,
                              HasSubstr("your session expired: the server rejected")));
  ExpectBothPathsAgree("expired");
}

TEST_F(StatusPathsTest, MemoryDefersWhatOnlyTheFullPathCanSay) {
  SignIn("gone-org");  // a membership warning: the full path reports it
  ASSERT_THAT(cached_.Status(), IsOk());
  EXPECT_FALSE(cached_.TryStatusFromMemory().has_value());
  SignIn();
  ASSERT_THAT(cached_.Status(), IsOk());
  ASSERT_TRUE(cached_.TryStatusFromMemory().has_value());
  clock_.Advance(absl::Seconds(60));  // the staleness bound: still answered, marked
  std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> stale = cached_.TryStatusFromMemory();
  ASSERT_TRUE(stale.has_value());
  ASSERT_THAT(*stale, IsOk());
  EXPECT_TRUE((*stale)->unverified());
}

TEST_F(StatusPathsTest, AgreePastTheStalenessBound) {
  SignIn();
  ASSERT_THAT(cached_.Status(), IsOk());
  clock_.Advance(absl::Minutes(2));
  absl::StatusOr<agent::v1::GetStatusResponse> full = cached_.Status();
  std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> memory =
      cached_.TryStatusFromMemory();
  ASSERT_TRUE(memory.has_value());
  ASSERT_THAT(full, IsOk());
  EXPECT_EQ((*memory)->DebugString(), full->DebugString());
}

}  // namespace
}  // namespace datagen
