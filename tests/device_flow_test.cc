#include "agent/oauth/device_flow.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using testing::FakeClock;
using testing::FakeHttpTransport;
using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::Not;
using testing::StatusIs;

constexpr char kDevice[] = "https://id.example/device";
constexpr char kToken[] = "https://id.example/token";
constexpr char kPending[] = R"({"error":"authorization_pending"})";
constexpr char kGranted[] =
    R"({"access_token":"dgat_new","token_type":"Bearer","expires_in":3600,"refresh_token":"dgrt_r"})";

std::string DeviceReply(absl::string_view extra = R"(,"interval":5)") {
  return absl::StrCat(R"({"device_code":"dgdc_secret","user_code":"QXTR-9PLN",)",
                      R"("verification_uri":"https://id.example/activate",)",
                      R"("verification_uri_complete":"https://id.example/activate?c=QXTR-9PLN",)",
                      R"("expires_in":600)", extra, "}");
}

// What a transport returns for a reply body over kMaxResponseBytes.
absl::Status Oversized(int http_status) {
  absl::Status error =
      absl::ResourceExhaustedError("the reply from id.example was larger than 1048576 bytes");
  error.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(http_status)));
  return error;
}

class DeviceFlowTest : public ::testing::Test {
 protected:
  DeviceFlow NewFlow() {
    Endpoints endpoints;
    endpoints.device_authorization = kDevice;
    endpoints.token = kToken;
    return DeviceFlow(http_, clock_, testing::NoJitter(), endpoints, "datagen-cli", "openid email");
  }
  // Seconds from the start to each token request.
  std::vector<int64_t> PollOffsets() {
    std::vector<int64_t> offsets;
    absl::Duration at;
    for (absl::Duration d : clock_.sleeps()) {
      at += d;
      offsets.push_back(absl::ToInt64Seconds(at));
    }
    return offsets;
  }

  FakeHttpTransport http_;
  FakeClock clock_;
  absl::Notification never_;
};

TEST_F(DeviceFlowTest, StartSendsTheRfc8628RequestAndReadsTheReply) {
  http_.Reply(kDevice, 200, DeviceReply());
  DeviceFlow flow = NewFlow();
  auto authorization = flow.Start();
  ASSERT_THAT(authorization, IsOk());
  EXPECT_EQ(authorization->user_code, "QXTR-9PLN");
  EXPECT_EQ(authorization->verification_uri, "https://id.example/activate");
  EXPECT_EQ(authorization->expires_at, clock_.Now() + absl::Seconds(600));
  EXPECT_EQ(flow.next_poll_at(), clock_.Now() + absl::Seconds(5));
  HttpRequest sent = http_.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.body, "client_id=datagen-cli&scope=openid%20email");
  EXPECT_THAT(sent.headers, ::testing::Contains(std::make_pair(std::string("Accept"),
                                                               std::string("application/json"))));
}

TEST_F(DeviceFlowTest, IntervalDefaultsToFiveSeconds) {
  http_.Reply(kDevice, 200, DeviceReply(""));
  http_.Reply(kToken, 400, kPending);
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  EXPECT_EQ(flow.interval(), absl::Seconds(5));
  ASSERT_THAT(flow.Run(never_), IsOk());
  EXPECT_THAT(PollOffsets(), ElementsAre(5, 10));
}

TEST_F(DeviceFlowTest, PollsAtTheIntervalUntilApprovedAndSendsTheDeviceCode) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":3)"));
  http_.Reply(kToken, 400, kPending);
  http_.Reply(kToken, 400, kPending);
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  absl::Time started = clock_.Now();
  auto tokens = flow.Run(never_);
  ASSERT_THAT(tokens, IsOk());
  EXPECT_EQ(tokens->access_token, "dgat_new");
  EXPECT_EQ(tokens->refresh_token, "dgrt_r");
  EXPECT_EQ(tokens->expires_in, absl::Seconds(3600));
  EXPECT_THAT(PollOffsets(), ElementsAre(3, 6, 9));
  EXPECT_EQ(clock_.Now() - started, absl::Seconds(9));
  HttpRequest poll = http_.requests()[1];
  EXPECT_EQ(poll.body,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&"
            "device_code=dgdc_secret&client_id=datagen-cli");
}

// Poll spacing, backoff and the code's deadline follow the monotonic clock: setting the wall
// clock back or forward mid-login moves none of them.
TEST_F(DeviceFlowTest, SettingTheWallClockMovesNeitherPollsNorBackoffNorTheDeadline) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":3)"));
  http_.Reply(kToken, 400, kPending);
  http_.Fail(kToken, absl::UnavailableError("connection refused"));
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  EXPECT_EQ(flow.next_poll_at(), clock_.BootTime() + absl::Seconds(3));

  clock_.Advance(absl::Seconds(3));
  clock_.StepWall(-absl::Hours(1));  // set back mid-login
  ASSERT_THAT(flow.Poll(&never_), IsOk());
  EXPECT_EQ(flow.next_poll_at(), clock_.BootTime() + absl::Seconds(3));

  clock_.Advance(absl::Seconds(3));
  clock_.StepWall(absl::Hours(2));  // and forward, far past the code's 600 s
  auto failed = flow.Poll(&never_);
  ASSERT_THAT(failed, IsOk()) << "a wall-clock jump ended the login";
  EXPECT_EQ(flow.next_poll_at(), clock_.BootTime() + absl::Seconds(6));  // backoff: 2 x 3 s

  clock_.Advance(absl::Seconds(6));
  auto granted = flow.Poll(&never_);
  ASSERT_THAT(granted, IsOk());
  ASSERT_TRUE(granted->has_value());
  EXPECT_EQ((*granted)->access_token, "dgat_new");
}

TEST_F(DeviceFlowTest, SlowDownAddsFiveSecondsForThisAndEveryLaterPoll) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":2)"));
  http_.Reply(kToken, 400, R"({"error":"slow_down"})");
  http_.Reply(kToken, 400, kPending);
  http_.Reply(kToken, 400, R"({"error":"slow_down"})");
  http_.Reply(kToken, 400, kPending);
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  ASSERT_THAT(flow.Run(never_), IsOk());
  // 2, then +7 (2+5), +7, then +12 (7+5), +12.
  EXPECT_THAT(PollOffsets(), ElementsAre(2, 9, 16, 28, 40));
  EXPECT_EQ(flow.interval(), absl::Seconds(12));
}

TEST_F(DeviceFlowTest, RetryAfterInSecondsIsHonoured) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":1)"));
  http_.Reply(kToken, 429, "", {{"retry-after", "17"}});
  http_.Reply(kToken, 503, "", {{"retry-after", "4"}});
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  ASSERT_THAT(flow.Run(never_), IsOk());
  EXPECT_THAT(PollOffsets(), ElementsAre(1, 18, 22));
}

TEST_F(DeviceFlowTest, RetryAfterAsAnHttpDateIsHonoured) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":1)"));
  std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                      clock_.Now() + absl::Seconds(1 + 30), absl::UTCTimeZone());
  http_.Reply(kToken, 429, "", {{"retry-after", date}});
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  ASSERT_THAT(flow.Run(never_), IsOk());
  EXPECT_THAT(PollOffsets(), ElementsAre(1, 31));
}

TEST_F(DeviceFlowTest, RetryAfterIsNeverShorterThanTheInterval) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":10)"));
  http_.Reply(kToken, 503, "", {{"retry-after", "1"}});
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  ASSERT_THAT(flow.Run(never_), IsOk());
  EXPECT_THAT(PollOffsets(), ElementsAre(10, 20));
}

TEST_F(DeviceFlowTest, TransientFailuresBackOffExponentiallyCappedAndReset) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":5)"));
  http_.Fail(kToken, absl::UnavailableError("connection refused"));
  http_.Reply(kToken, 500, "oops");
  http_.Reply(kToken, 502, "<html>bad gateway</html>");
  http_.Fail(kToken, Oversized(503));
  http_.Fail(kToken, absl::UnavailableError("timed out"));
  http_.Reply(kToken, 400, "not json at all");
  http_.Reply(kToken, 400, kPending);  // a good answer resets the backoff
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  ASSERT_THAT(flow.Run(never_), IsOk());
  // 5; then 10, 20, 40, 60 (capped), 60, 60; after pending, 5.
  EXPECT_THAT(PollOffsets(), ElementsAre(5, 15, 35, 75, 135, 195, 255, 260));
}

// Issue 22, bug 9: a captive portal answers every request with 200 and its own page. That is
// not the server's answer: the code is still good when the network is back, so it is retried.
TEST_F(DeviceFlowTest, APortalsPageOrAnOversizedSuccessIsRetriedWithBackoff) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":5)"));
  http_.Reply(kToken, 200, "<html><body>Sign in to the hotel Wi-Fi</body></html>",
              {{"content-type", "text/html"}});
  http_.Fail(kToken, Oversized(200));
  http_.Reply(kToken, 200, "<html>no type at all</html>");
  http_.Reply(kToken, 200, kGranted);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  ASSERT_THAT(flow.Run(never_), IsOk());
  EXPECT_THAT(PollOffsets(), ElementsAre(5, 15, 35, 75));  // backoff, as for any transient
}

TEST_F(DeviceFlowTest, APortalUntilTheCodeExpiresEndsTheLoginNamingIt) {
  http_.Reply(kDevice, 200, DeviceReply());  // valid 600 s: 12 polls at most, backing off
  for (int i = 0; i < 20; ++i) {
    http_.Reply(kToken, 200, "<html>portal</html>", {{"content-type", "text/html"}});
  }
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  absl::Status ended = flow.Run(never_).status();
  EXPECT_THAT(ended, StatusIs(absl::StatusCode::kDeadlineExceeded,
                              AllOf(HasSubstr("timed out"), HasSubstr("captive portal"))));
  EXPECT_THAT(std::string(ended.message()), Not(HasSubstr("hotel")));
}

TEST_F(DeviceFlowTest, DenialEndsTheLogin) {
  http_.Reply(kDevice, 200, DeviceReply());
  http_.Reply(kToken, 400, kPending);
  http_.Reply(kToken, 400, R"({"error":"access_denied"})");
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  EXPECT_THAT(flow.Run(never_), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("denied")));
  EXPECT_EQ(flow.polls(), 2);
}

TEST_F(DeviceFlowTest, ExpiredTokenEndsTheLogin) {
  http_.Reply(kDevice, 200, DeviceReply());
  http_.Reply(kToken, 400, R"({"error":"expired_token"})");
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  EXPECT_THAT(flow.Run(never_),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("code expired")));
}

TEST_F(DeviceFlowTest, UnknownErrorsEndTheLoginWithTheirOwnMessage) {
  http_.Reply(kDevice, 200, DeviceReply());
  http_.Reply(kToken, 400, R"({"error":"invalid_grant","error_description":"code reused"})");
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  EXPECT_THAT(flow.Run(never_),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("invalid_grant: code reused")));
}

TEST_F(DeviceFlowTest, GivesUpAtExpiresInWithoutPollingPastIt) {
  http_.Reply(kDevice, 200,
              absl::StrReplaceAll(DeviceReply(R"(,"interval":7)"),
                                  {{"\"expires_in\":600", "\"expires_in\":20"}}));
  http_.Reply(kToken, 400, kPending);
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  absl::Time started = clock_.Now();
  EXPECT_THAT(flow.Run(never_),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("timed out")));
  EXPECT_EQ(clock_.Now() - started, absl::Seconds(20));
  EXPECT_EQ(flow.polls(), 2);  // at 7 and 14; the next would be at 21 > 20
}

TEST_F(DeviceFlowTest, MalformedSuccessIsAnErrorAndNothingIsReturned) {
  for (const std::string& body :
       {std::string(R"({"token_type":"Bearer"})"), std::string("{ not json"),
        std::string(R"({"access_token":"dgat_x","token_type":"mac"})"),
        std::string(R"({"access_token":"dgat x","token_type":"Bearer"})"),
        std::string(R"({"access_token":"dgat_x","token_type":"Bearer","expires_in":-5})"),
        std::string(R"({"access_token":12,"token_type":"Bearer"})")}) {
    FakeHttpTransport http;
    FakeClock clock;
    http.Reply(kDevice, 200, DeviceReply());
    http.Reply(kToken, 200, body);
    Endpoints endpoints;
    endpoints.device_authorization = kDevice;
    endpoints.token = kToken;
    DeviceFlow flow(http, clock, testing::NoJitter(), endpoints, "datagen-cli", "openid");
    ASSERT_THAT(flow.Start(), IsOk());
    absl::Notification never;
    absl::Status status = flow.Run(never).status();
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnknown, HasSubstr("malformed"))) << body;
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("dgat"))) << body;
  }
}

TEST_F(DeviceFlowTest, FormEncodedRepliesAreAccepted) {
  http_.Reply(kDevice, 200, DeviceReply(R"(,"interval":1)"));
  http_.Reply(kToken, 400, "error=authorization_pending",
              {{"content-type", "application/x-www-form-urlencoded"}});
  http_.Reply(kToken, 200, "access_token=dgat_f%2Bx&token_type=bearer&expires_in=60&scope=a+b",
              {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}});
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  auto tokens = flow.Run(never_);
  ASSERT_THAT(tokens, IsOk());
  EXPECT_EQ(tokens->access_token, "dgat_f+x");
  EXPECT_EQ(tokens->scope, "a b");
  EXPECT_EQ(flow.polls(), 2);
}

TEST_F(DeviceFlowTest, CancelStopsAtOnce) {
  http_.Reply(kDevice, 200, DeviceReply());
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  absl::Notification cancel;
  cancel.Notify();
  EXPECT_THAT(flow.Run(cancel), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(flow.polls(), 0);
  // A transfer aborted by the cancellation ends the login too, not as a transient failure.
  http_.Fail(kToken, absl::CancelledError("cancelled"));
  EXPECT_THAT(flow.Poll(), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(DeviceFlowTest, StartErrors) {
  struct Case {
    int status;
    std::string body;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {503, "", absl::StatusCode::kUnavailable},
           {401, R"({"error":"invalid_client"})", absl::StatusCode::kFailedPrecondition},
           {200, "nope", absl::StatusCode::kUnknown},
           {200, R"({"user_code":"A","verification_uri":"https://x/","expires_in":60})",
            absl::StatusCode::kUnknown},
           {200, DeviceReply(R"(,"interval":-1)"), absl::StatusCode::kUnknown},
           {200, absl::StrReplaceAll(DeviceReply(), {{"600", "0"}}), absl::StatusCode::kUnknown},
           {200, absl::StrReplaceAll(DeviceReply(), {{"https://id.example/activate", "nope"}}),
            absl::StatusCode::kUnknown},
       }) {
    FakeHttpTransport http;
    http.Reply(kDevice, c.status, c.body);
    Endpoints endpoints;
    endpoints.device_authorization = kDevice;
    DeviceFlow flow(http, clock_, testing::NoJitter(), endpoints, "datagen-cli", "openid");
    EXPECT_THAT(flow.Start(), StatusIs(c.code)) << c.status << " " << c.body;
  }
  FakeHttpTransport down;
  down.Fail(kDevice, absl::UnavailableError("connection refused"));
  Endpoints endpoints;
  endpoints.device_authorization = kDevice;
  EXPECT_THAT(DeviceFlow(down, clock_, testing::NoJitter(), endpoints, "c", "s").Start(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(DeviceFlowTest, HugeValuesAreBounded) {
  http_.Reply(kDevice, 200,
              absl::StrReplaceAll(DeviceReply(R"(,"interval":99999)"), {{"600", "9999999"}}));
  DeviceFlow flow = NewFlow();
  ASSERT_THAT(flow.Start(), IsOk());
  EXPECT_EQ(flow.expires_at() - clock_.Now(), absl::Hours(1));
  EXPECT_EQ(flow.interval(), absl::Minutes(5));
}

TEST(ParseRetryAfter, SecondsAndDates) {
  absl::Time now = absl::FromUnixSeconds(1795820000);
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("-3", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now + absl::Seconds(90),
                                             absl::UTCTimeZone()),
                            now),
            absl::Seconds(90));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), absl::ZeroDuration());
}

}  // namespace
}  // namespace datagen
