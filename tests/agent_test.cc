// The Agent as datagen-agent runs it, in process over fakes (AgentHarness): it serves the CLI's
// own client on a real socket, and stops in its written-down order whatever is in progress.
#include "agent/agent.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "agent/common/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/agent_harness.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace datagen {
namespace {

using testing::AgentHarness;
using ::testing::HasSubstr;
using testing::kDeviceEndpoint;
using testing::kUserinfoEndpoint;
using testing::kYou;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

TEST(AgentTest, ServesTheCliClientOnItsSocket) {
  AgentHarness harness;
  harness.http().Reply(kUserinfoEndpoint, 200, kYou);
  harness.SignIn("dgat_tok", "test-org");
  agent::v1::GetStatusResponse status;
  grpc::Status answered = harness.NewClient()->GetStatus(/*verify=*/false, &status);
  ASSERT_TRUE(answered.ok()) << answered.error_message();
  EXPECT_EQ(status.email(), "you@yourcompany.com");
  EXPECT_EQ(status.role(), "member");
  agent::v1::LogoutResponse logout;
  harness.http().Reply(testing::kRevokeEndpoint, 200, "");
  ASSERT_TRUE(harness.NewClient()->Logout(&logout).ok());
  EXPECT_EQ(logout.status(), "logged_out");
  EXPECT_FALSE(harness.store().stored().has_value());
}

// Issue 21, finding 9, through the whole agent and the CLI's client on its socket: a laptop
// suspended for two hours (the injected clock: monotonic time frozen, boot and wall time moved
// on) is no longer served "confirmed ten seconds ago"; and the refresh that fell due meanwhile
// runs on the agent's own wake loop when it next looks (on a real machine its CLOCK_BOOTTIME
// timer fires on resume; with the fake clock, the background confirmation that the stale
// answer asks for wakes it).
TEST(AgentTest, AfterASuspendTheIdentityIsStaleAndTheOverdueRefreshRuns) {
  AgentHarness::Options options;
  options.identity_max_age = absl::Seconds(60);
  options.background_work = true;
  AgentHarness harness(options);
  harness.gate().Open();  // a server that answers
  harness.http().Reply(kUserinfoEndpoint, 200, kYou);
  harness.http().Reply(testing::kTokenEndpoint, 200,
                       R"({"access_token":"dgat_two","token_type":"Bearer","expires_in":3600,
                           "refresh_token":"dgrt_two"})");
  agent::v1::Credentials c;
  c.set_api_url(testing::kIssuer);
  c.set_token("dgat_tok");
  c.set_refresh_token("dgrt_tok");
  c.set_email("you@yourcompany.com");
  c.set_active_org_slug("test-org");
  SetTime(harness.clock().Now(), c.mutable_stored_at());
  SetTime(harness.clock().Now() + absl::Hours(1), c.mutable_token_expires_at());
  harness.store().Put(c);
  agent::v1::GetStatusResponse status;
  ASSERT_TRUE(harness.NewClient()->GetStatus(/*verify=*/false, &status).ok());
  harness.clock().Advance(absl::Seconds(10));
  ASSERT_TRUE(harness.NewClient()->GetStatus(/*verify=*/false, &status).ok());
  EXPECT_FALSE(status.unverified());
  EXPECT_EQ(harness.http().CountTo(testing::kTokenEndpoint), 0);
  harness.clock().Suspend(absl::Hours(2));
  ASSERT_TRUE(harness.NewClient()->GetStatus(/*verify=*/false, &status).ok());
  EXPECT_TRUE(status.unverified()) << "confirmed two hours ago, not ten seconds ago";
  EXPECT_TRUE(testing::WaitUntil([&] {
    return harness.http().CountTo(testing::kTokenEndpoint) == 1;
  })) << "the refresh due an hour ago did not run on waking";
  EXPECT_TRUE(testing::WaitUntil([&] {
    return harness.store().stored().has_value() && harness.store().stored()->token() == "dgat_two";
  }));
}

TEST(AgentTest, StopEndsALoginInProgressAndAWatchAndRemovesTheSocket) {
  AgentHarness harness;
  harness.http().Reply(kDeviceEndpoint, 200, testing::kDeviceCodeReply);
  std::unique_ptr<cli::AgentClient> login_client = harness.NewClient();
  grpc::Status login_status;
  std::thread login(
      [&] { login_status = login_client->Login("", [](const agent::v1::LoginEvent&) {}); });
  std::unique_ptr<cli::AgentClient> watch_client = harness.NewClient();
  absl::Notification watching;
  grpc::Status watch_status;
  std::thread watch([&] {
    watch_status = watch_client->Watch([&](const agent::v1::WatchEvent&) {
      if (!watching.HasBeenNotified()) watching.Notify();
    });
  });
  harness.gate().AwaitPoll();  // the login waits for approval at the server
  ASSERT_TRUE(watching.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(harness.agent().broker().active());

  absl::Time started = absl::Now();
  harness.agent().Stop();
  EXPECT_LT(absl::Now() - started, absl::Seconds(5)) << "a held login must not hold up Stop";
  login.join();
  watch.join();
  EXPECT_FALSE(login_status.ok());
  EXPECT_FALSE(watch_status.ok());
  EXPECT_FALSE(harness.agent().broker().active()) << "the login was cancelled and joined";
  EXPECT_FALSE(Exists(harness.socket_path()));
  harness.agent().Stop();  // idempotent; the destructor stops again
}

// A refresh waiting on a server that never answers does not hold up Stop: the agent's transport
// cancels it (background work and calls alike), and the session stays as stored.
TEST(AgentTest, StopCancelsABackgroundRequestToAHangingServer) {
  AgentHarness harness;  // the token endpoint is held at the gate: a hanging server
  agent::v1::Credentials c;
  c.set_api_url(testing::kIssuer);  // recorded by every login
  c.set_token("dgat_tok");
  c.set_refresh_token("dgrt_tok");
  c.set_email("you@yourcompany.com");
  SetTime(harness.clock().Now() + absl::Seconds(30), c.mutable_token_expires_at());
  harness.store().Put(c);
  absl::Notification done;
  std::thread background([&] {
    (void)harness.session().GetToken();  // expires within a minute: refreshes, at the gate
    done.Notify();
  });
  harness.gate().AwaitPoll();
  absl::Time start = absl::Now();
  harness.agent().Stop();
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  background.join();
  ASSERT_TRUE(harness.store().stored().has_value());
  EXPECT_EQ(harness.store().stored()->refresh_token(), "dgrt_tok");
}

TEST(AgentTest, CallsAfterStopAreRefusedNotHung) {
  AgentHarness harness;
  harness.agent().Stop();
  agent::v1::GetStatusResponse status;
  std::unique_ptr<cli::AgentClient> client = harness.NewClient();
  grpc::Status refused = client->GetStatus(false, &status);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(client->agent_unreachable());
}

TEST(AgentTest, TheClientsAsyncInterfaceCarriesManyCallsOnItsCheckedConnection) {
  AgentHarness harness;
  harness.http().Reply(kUserinfoEndpoint, 200, kYou);
  harness.SignIn("dgat_tok", "test-org");
  std::unique_ptr<cli::AgentClient> client = harness.NewClient();
  auto* async = client->Async();
  ASSERT_NE(async, nullptr);
  constexpr int kCalls = 16;
  struct Call {
    grpc::ClientContext context;
    agent::v1::GetStatusRequest request;
    agent::v1::GetStatusResponse response;
    grpc::Status status;
  };
  std::vector<Call> calls(kCalls);
  std::atomic<int> left{kCalls};
  absl::Notification all_done;
  for (Call& call : calls) {
    async->GetStatus(&call.context, &call.request, &call.response, [&](grpc::Status status) {
      call.status = std::move(status);
      if (--left == 0) all_done.Notify();
    });
  }
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  for (const Call& call : calls) {
    ASSERT_TRUE(call.status.ok()) << call.status.error_message();
    EXPECT_EQ(call.response.email(), "you@yourcompany.com");
    // Every reply is the agent's own (its trailer), as on the client's synchronous calls.
    EXPECT_EQ(call.context.GetServerTrailingMetadata().count(kAgentReplyKey), 1u);
  }
}

// Issue 23: an error says why beyond its code, as the name of an ErrorReason in the trailer
// x-datagen-reason (agent.proto), for any client; the CLI's client hands it on in
// error_details(), and chooses its advice from it.
TEST(AgentTest, ErrorsCarryTheirReasonInTheTrailers) {
  AgentHarness harness;
  std::unique_ptr<cli::AgentClient> client = harness.NewClient();
  auto* async = client->Async();
  ASSERT_NE(async, nullptr);
  grpc::ClientContext context;
  agent::v1::GetStatusRequest request;  // without answer_signed_out: signed out is an error
  agent::v1::GetStatusResponse response;
  grpc::Status status;
  absl::Notification done;
  async->GetStatus(&context, &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const auto& trailers = context.GetServerTrailingMetadata();
  auto reason = trailers.find(kErrorReasonKey);
  ASSERT_NE(reason, trailers.end());
  EXPECT_EQ(std::string(reason->second.data(), reason->second.size()),
            "ERROR_REASON_NOT_SIGNED_IN");

  harness.http().Reply(kUserinfoEndpoint, 200, kYou);
  harness.SignIn("dgat_tok", "test-org");
  agent::v1::UseOrgResponse used;
  grpc::Status refused = client->UseOrg("not-mine", &used);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused.error_details(), "ERROR_REASON_NOT_A_MEMBER");
}

TEST(AgentTest, TheClientsAsyncInterfaceIsNullWithNoAgent) {
  AgentHarness harness;
  harness.agent().Stop();
  std::unique_ptr<cli::AgentClient> client = harness.NewClient();
  EXPECT_EQ(client->Async(), nullptr);
  EXPECT_TRUE(client->agent_unreachable());
}

TEST(AgentTest, IdleExitIsDueAfterTheIdlePeriodOnTheInjectedClock) {
  AgentHarness harness;
  Agent& agent = harness.agent();
  EXPECT_EQ(agent.UntilIdleFor(absl::ZeroDuration()), absl::InfiniteDuration()) << "never";
  EXPECT_EQ(agent.UntilIdleFor(absl::Seconds(30)), absl::Seconds(30));
  harness.clock().Advance(absl::Seconds(20));
  EXPECT_EQ(agent.UntilIdleFor(absl::Seconds(30)), absl::Seconds(10));
  // A call ends the idle period; it begins again when the call ends.
  agent::v1::GetStatusResponse status;
  (void)harness.NewClient()->GetStatus(false, &status);
  EXPECT_EQ(agent.UntilIdleFor(absl::Seconds(30)), absl::Seconds(30));
  harness.clock().Advance(absl::Seconds(31));
  EXPECT_LE(agent.UntilIdleFor(absl::Seconds(30)), absl::ZeroDuration());
  // Setting the wall clock changes nothing: idle time is monotonic.
  harness.clock().StepWall(-absl::Hours(2));
  EXPECT_EQ(agent.UntilIdleFor(absl::Seconds(30)), -absl::Seconds(1));
}

// Issue 13: after sleep_after with no call, stream or login (on the injected clock), the agent
// drops gRPC; the next connection builds it again and is answered. A watcher keeps it awake.
TEST(AgentTest, SleepsWhenIdleAndWakesForTheNextConnection) {
  AgentHarness::Options options;
  options.sleep_after = absl::Seconds(30);
  AgentHarness harness(options);
  Agent& agent = harness.agent();
  agent::v1::GetStatusResponse status;
  ASSERT_TRUE(harness.NewClient()->GetStatus(false, &status).ok());
  EXPECT_TRUE(status.signed_out()) << "the CLI's client asks for signed out as a reply";
  EXPECT_TRUE(agent.awake());
  harness.clock().Advance(absl::Seconds(29));
  agent.ReconsiderSleep();
  EXPECT_TRUE(agent.awake()) << "not idle for long enough";
  harness.clock().Advance(absl::Seconds(2));
  agent.ReconsiderSleep();
  EXPECT_FALSE(agent.awake()) << "asleep after 30 s idle";

  // The next connection wakes it, and is answered.
  harness.SignIn();
  harness.http().Reply(kUserinfoEndpoint, 200, kYou);
  ASSERT_TRUE(harness.NewClient()->GetStatus(false, &status).ok());
  EXPECT_EQ(status.email(), "you@yourcompany.com");
  EXPECT_TRUE(agent.awake());

  // A watcher keeps it awake however long it watches (e2e_sleep_test: and when it leaves, the
  // agent sleeps again).
  std::unique_ptr<cli::AgentClient> watch_client = harness.NewClient();
  absl::Notification watching;
  std::thread watch([&] {
    (void)watch_client->Watch([&](const agent::v1::WatchEvent&) {
      if (!watching.HasBeenNotified()) watching.Notify();
    });
  });
  ASSERT_TRUE(watching.WaitForNotificationWithTimeout(absl::Seconds(10)));
  harness.clock().Advance(absl::Hours(1));
  agent.ReconsiderSleep();
  EXPECT_TRUE(agent.awake()) << "a watcher is connected";
  agent.Stop();
  watch.join();
}

TEST(AgentTest, ALoginInProgressIsNeverIdle) {
  AgentHarness harness;
  harness.http().Reply(kDeviceEndpoint, 200, testing::kDeviceCodeReply);
  std::unique_ptr<cli::AgentClient> client = harness.NewClient();
  std::thread login([&] { (void)client->Login("", [](const agent::v1::LoginEvent&) {}); });
  harness.gate().AwaitPoll();
  harness.clock().Advance(absl::Hours(1));
  EXPECT_EQ(harness.agent().UntilIdleFor(absl::Seconds(30)), absl::InfiniteDuration());
  harness.agent().Stop();
  login.join();
}

TEST(AgentTest, HandoverWaitsForALoginInProgressThenTellsWatchersAndAsksToExit) {
  std::atomic<int> exits{0};
  AgentHarness::Options options;
  options.request_exit = [&] { ++exits; };
  AgentHarness harness(options);
  harness.http().Reply(kDeviceEndpoint, 200, testing::kDeviceCodeReply);
  std::unique_ptr<cli::AgentClient> login_client = harness.NewClient();
  std::thread login([&] { (void)login_client->Login("", [](const agent::v1::LoginEvent&) {}); });
  harness.gate().AwaitPoll();
  std::vector<agent::v1::SessionChange> changes;
  absl::Mutex mu;
  std::unique_ptr<cli::AgentClient> watch_client = harness.NewClient();
  std::thread watch([&] {
    (void)watch_client->Watch([&](const agent::v1::WatchEvent& event) {
      absl::MutexLock lock(&mu);
      changes.push_back(event.change());
    });
  });
  ASSERT_TRUE(testing::WaitUntil([&] {
    absl::MutexLock lock(&mu);
    return !changes.empty();
  }));

  EXPECT_FALSE(harness.agent().Handover()) << "a waiting login keeps the agent";
  EXPECT_EQ(exits.load(), 0) << "only the login's end makes it leave";
  // The login ends (denied in the browser).
  harness.http().Reply(testing::kTokenEndpoint, 400, R"({"error":"access_denied"})");
  harness.gate().Open();
  login.join();
  EXPECT_TRUE(testing::WaitUntil([&] { return exits.load() == 1; })) << "asked to exit";
  EXPECT_TRUE(testing::WaitUntil([&] {
    absl::MutexLock lock(&mu);
    return std::find(changes.begin(), changes.end(), agent::v1::SESSION_CHANGE_AGENT_RESTARTING) !=
           changes.end();
  })) << "watchers were told";
  harness.agent().Stop();
  watch.join();
}

}  // namespace
}  // namespace datagen
