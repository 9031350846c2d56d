#include "agent/session/login_broker.h"

#include <unistd.h>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/agent_harness.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using testing::FakeClock;
using testing::FakeHttpTransport;
using testing::IsOk;
using testing::MemoryCredentialStore;
using testing::StatusIs;

using testing::AgentHarness;
using testing::GatedTransport;
using ::testing::HasSubstr;
using testing::kIssuer;
constexpr const char* kDevice = testing::kDeviceEndpoint;
constexpr const char* kToken = testing::kTokenEndpoint;
constexpr const char* kUserinfo = testing::kUserinfoEndpoint;

class RecordingListener final : public LoginBroker::Listener {
 public:
  void OnDeviceCode(const agent::v1::DeviceCode& code) override {
    absl::MutexLock lock(&mu_);
    codes_.push_back(code.user_code());
  }
  void OnLoginDone(const absl::StatusOr<agent::v1::LoginResult>& result) override {
    absl::MutexLock lock(&mu_);
    result_ = result;
  }
  absl::StatusOr<agent::v1::LoginResult> AwaitResult() {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return result_.has_value(); };
    mu_.Await(absl::Condition(&done));
    return *result_;
  }
  std::vector<std::string> codes() {
    absl::MutexLock lock(&mu_);
    return codes_;
  }
  bool done() {
    absl::MutexLock lock(&mu_);
    return result_.has_value();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> codes_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::StatusOr<agent::v1::LoginResult>> result_ ABSL_GUARDED_BY(mu_);
};

class LoginBrokerTest : public ::testing::Test {
 protected:
  LoginBrokerTest() {
    http_.Reply(kDevice, 200, testing::kDeviceCodeReply);
    http_.Reply(kToken, 200, R"({"access_token":"dgat_new","token_type":"Bearer"})");
    http_.Reply(kUserinfo, 200, R"({"email":"you@yourcompany.com","memberships":[
        {"slug":"a","role":"member"},{"slug":"b","role":"admin","default":true}]})");
  }

  // The agent's own wiring; its login broker, session and store are the ones under test.
  AgentHarness harness_;
  FakeHttpTransport& http_ = harness_.http();
  GatedTransport& gated_ = harness_.gate();
  FakeClock& clock_ = harness_.clock();
  MemoryCredentialStore& store_ = harness_.store();
  RevocationQueue& revocations_ = harness_.agent().revocations();
  Session& session_ = harness_.session();
  LoginBroker& broker_ = harness_.agent().broker();
};

TEST_F(LoginBrokerTest, ConcurrentCallersShareOneCodeAndOneResult) {
  RecordingListener first, second;
  uint64_t a = broker_.Attach(&first);
  gated_.AwaitPoll();  // the code was issued; the login is polling
  uint64_t b = broker_.Attach(&second);
  EXPECT_EQ(second.codes(), first.codes()) << "a late caller gets the same code at once";
  ASSERT_EQ(first.codes().size(), 1u);
  EXPECT_EQ(first.codes()[0], "ABCD-EFGH");
  gated_.Open();
  auto r1 = first.AwaitResult();
  auto r2 = second.AwaitResult();
  ASSERT_THAT(r1, IsOk());
  ASSERT_THAT(r2, IsOk());
  EXPECT_EQ(r1->email(), "you@yourcompany.com");
  EXPECT_EQ(r1->active_org_slug(), "b") << "the membership marked default";
  EXPECT_EQ(r2->SerializeAsString(), r1->SerializeAsString());
  EXPECT_EQ(http_.CountTo(kDevice), 1) << "one device flow for both callers";
  ASSERT_TRUE(store_.stored().has_value());
  EXPECT_EQ(store_.stored()->token(), "dgat_new");
  broker_.Detach(a);
  broker_.Detach(b);
}

TEST_F(LoginBrokerTest, TheLastCallerLeavingCancelsTheLogin) {
  RecordingListener only;
  uint64_t handle = broker_.Attach(&only);
  gated_.AwaitPoll();
  EXPECT_TRUE(broker_.active());
  broker_.Detach(handle);
  EXPECT_FALSE(broker_.active());
  EXPECT_FALSE(only.done()) << "a detached listener hears nothing more";
  gated_.AwaitNoPoll();  // the cancelled poll returns without waiting for the gate
  // A new caller starts a fresh login, with a new device authorization.
  RecordingListener next;
  uint64_t again = broker_.Attach(&next);
  gated_.AwaitPoll();
  EXPECT_EQ(http_.CountTo(kDevice), 2);
  broker_.Detach(again);
  EXPECT_FALSE(store_.stored().has_value()) << "nothing is stored by a cancelled login";
}

// Found by CI under load: a cancel that cuts a poll short ended the login with the transport's
// words ("the request was cancelled") instead of saying that the login was cancelled.
TEST_F(LoginBrokerTest, ALoginCancelledDuringAPollEndsAsCancelled) {
  RecordingListener only;
  ::testing::internal::CaptureStderr();
  uint64_t handle = broker_.Attach(&only);
  gated_.AwaitPoll();  // a poll is in flight, held at the gate
  broker_.Detach(handle);
  broker_.Shutdown();  // waits for the login's thread to end
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("login: ended: the login was cancelled")) << log;
}

TEST_F(LoginBrokerTest, OneCallerLeavingDoesNotCancelTheOthers) {
  RecordingListener leaving, staying;
  uint64_t a = broker_.Attach(&leaving);
  gated_.AwaitPoll();
  uint64_t b = broker_.Attach(&staying);
  broker_.Detach(a);
  gated_.Open();
  EXPECT_THAT(staying.AwaitResult(), IsOk());
  EXPECT_FALSE(leaving.done());
  broker_.Detach(b);
}

TEST_F(LoginBrokerTest, AFailureReachesEveryCaller) {
  FakeHttpTransport down;
  down.Reply(kDevice, 503, "");
  Issuers issuers(down, "datagen-cli", kIssuer);
  LoginBroker broker(issuers, clock_, testing::NoJitter(), session_, "openid");
  RecordingListener listener;
  broker.Attach(&listener);
  EXPECT_THAT(listener.AwaitResult(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(broker.active());
}

TEST_F(LoginBrokerTest, LoggingInWhileSignedInStoresTheNewTokenThenQueuesTheOldForRevocation) {
  agent::v1::Credentials old;
  old.set_api_url(testing::kIssuer);  // recorded by every login
  old.set_token("dgat_old");
  old.set_refresh_token("dgrt_old");
  old.set_api_url("https://id.example");
  store_.Put(old);
  http_.Reply("https://id.example/oauth/revoke", 200, "");
  gated_.Open();
  RecordingListener listener;
  broker_.Attach(&listener);
  ASSERT_THAT(listener.AwaitResult(), IsOk());
  EXPECT_EQ(store_.stored()->token(), "dgat_new");
  // The old session goes through the never-lost queue, at its own issuer, and the wake loop's
  // next run revokes it.
  EXPECT_EQ(revocations_.size(), 2);
  session_.DoDueWork();
  EXPECT_EQ(revocations_.size(), 0);
  std::vector<std::string> revoked;
  for (const HttpRequest& r : http_.requests()) {
    if (r.url == "https://id.example/oauth/revoke") revoked.push_back(r.body);
  }
  ASSERT_EQ(revoked.size(), 2u);
  EXPECT_THAT(revoked[0], ::testing::StartsWith("token=dgat_old&"));
  EXPECT_THAT(revoked[1], ::testing::StartsWith("token=dgrt_old&"));
}

}  // namespace
}  // namespace datagen
