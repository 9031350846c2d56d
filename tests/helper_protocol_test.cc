// What the agent writes to its HTTP helper the helper reads back whole, and the other way.
#include "agent/http/helper_protocol.h"

#include "absl/strings/cord.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::datagen::testing::IsOk;
using ::datagen::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

TEST(HelperProtocolTest, ARequestRoundTrips) {
  HttpRequest request = FormPost("https://id.example/oauth/token", {{"grant_type", "x"}});
  request.timeout = absl::Milliseconds(12345);
  std::string body_with_nul("a\0b", 3);
  request.body = body_with_nul;
  absl::StatusOr<HttpRequest> read = DecodeHelperRequest(EncodeHelperRequest(request));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->method, "POST");
  EXPECT_EQ(read->url, "https://id.example/oauth/token");
  EXPECT_EQ(read->headers, request.headers);
  EXPECT_EQ(read->body, body_with_nul);
  EXPECT_EQ(read->timeout, absl::Milliseconds(12345));
  EXPECT_EQ(read->cancel, nullptr);
}

TEST(HelperProtocolTest, AResponseRoundTrips) {
  HttpResponse response;
  response.status = 429;
  response.headers = {{"retry-after", "3"}, {"content-type", "application/json"}};
  response.body = R"({"error":"slow_down"})";
  absl::StatusOr<HttpResponse> read = DecodeHelperOutcome(EncodeHelperOutcome(response));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->status, 429);
  EXPECT_THAT(read->headers,
              ElementsAre(Pair("retry-after", "3"), Pair("content-type", "application/json")));
  EXPECT_EQ(read->body, response.body);
}

TEST(HelperProtocolTest, AnErrorRoundTripsWithItsCodeAndTheOversizedStatus) {
  absl::Status oversized = absl::ResourceExhaustedError("the reply is over 1 MiB");
  oversized.SetPayload(kHttpStatusPayload, absl::Cord("200"));
  absl::StatusOr<HttpResponse> read = DecodeHelperOutcome(EncodeHelperOutcome(oversized));
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kResourceExhausted, "the reply is over 1 MiB"));
  EXPECT_EQ(OversizedReplyStatus(read.status()), 200);
  EXPECT_THAT(DecodeHelperOutcome(EncodeHelperOutcome(absl::UnavailableError("refused"))),
              StatusIs(absl::StatusCode::kUnavailable, "refused"));
}

TEST(HelperProtocolTest, BytesThatAreNotAMessageAreRefused) {
  EXPECT_THAT(DecodeHelperRequest("\xff\xff\xff"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeHelperOutcome("\xff\xff\xff"), StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace datagen
