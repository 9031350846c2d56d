// The one form POST and the one classification of transport errors that every caller uses.
#include "agent/http/http_transport.h"

#include "agent/common/reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::datagen::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(HttpTransportTest, FormPostEncodesTheFieldsAndAsksForJson) {
  HttpRequest request = FormPost("https://id.example/oauth/token",
                                 {{"grant_type", "refresh_token"}, {"refresh_token", "a b&c=d"}});
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://id.example/oauth/token");
  EXPECT_EQ(request.body, "grant_type=refresh_token&refresh_token=a%20b%26c%3Dd");
  EXPECT_THAT(request.headers,
              ::testing::ElementsAre(Pair("Content-Type", "application/x-www-form-urlencoded"),
                                     Pair("Accept", "application/json")));
}

// One wording per outage (issue 14): the same unreachable server reads the same whichever step
// (discovery, userinfo, refresh) met it.
TEST(HttpTransportTest, UnreachableStaysUnavailableInOneWordingWhateverTheStep) {
  absl::Status down = absl::UnavailableError("could not reach id.example: refused");
  for (const char* step : {"could not reach the server to refresh", "discovery failed"}) {
    absl::Status seen = TransportError(down, step);
    EXPECT_EQ(seen.code(), down.code());
    EXPECT_EQ(seen.message(), down.message());
    EXPECT_EQ(ReasonOf(seen), agent::v1::ERROR_REASON_SERVER_UNREACHABLE);  // issue 23
  }
}

TEST(HttpTransportTest, CancelledIsPassedOnAsItIs) {
  absl::Status cancelled = absl::CancelledError("the login was cancelled");
  EXPECT_EQ(TransportError(cancelled, "could not poll"), cancelled);
}

TEST(HttpTransportTest, AnOversizedReplyIsABrokenServerNotAnOutage) {
  EXPECT_THAT(TransportError(absl::ResourceExhaustedError("the reply is over 1 MiB"), "discovery"),
              StatusIs(absl::StatusCode::kUnknown, HasSubstr("over 1 MiB")));
}

TEST(HttpTransportTest, AForbiddenUrlIsAPreconditionOfTheSetup) {
  EXPECT_THAT(TransportError(absl::InvalidArgumentError("plain http to a remote host"), "x"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("plain http")));
}

TEST(HttpTransportTest, AMissingHelperBlamesTheInstallationNotTheServer) {
  EXPECT_THAT(TransportError(absl::InternalError("cannot start /usr/lib/datagen-agent-http"),
                             "could not reach the server to revoke"),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("a fault of this installation, not of the server")));
}

}  // namespace
}  // namespace datagen
