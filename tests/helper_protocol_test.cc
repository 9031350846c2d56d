// What the agent writes to its HTTP helper the helper reads back whole, and the other way.
#include "agent/http/helper_protocol.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "agent/common/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/datagen/agent/internal/http.pb.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::datagen::testing::IsOk;
using ::datagen::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
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

TEST(HelperProtocolTest, BothEndsRefuseAnotherProtocolNamingBothVersions) {
  agent::internal::HttpExchangeRequest old_request;  // from an agent before versions existed
  old_request.set_method("GET");
  old_request.set_url("https://id.example/");
  EXPECT_THAT(DecodeHelperRequest(old_request.SerializeAsString()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(absl::StrCat("datagen-agent-http ", kVersion)),
                             HasSubstr("an older version"), HasSubstr("reinstall"))));
  agent::internal::HttpExchangeResponse other;  // from a helper of a later protocol
  other.set_protocol_version(kHelperProtocolVersion + 1);
  other.set_datagen_version("9.9.9");
  other.set_status(200);
  EXPECT_THAT(
      DecodeHelperOutcome(other.SerializeAsString()),
      StatusIs(absl::StatusCode::kInternal,
               AllOf(HasSubstr("datagen-agent-http of 9.9.9"),
                     HasSubstr(absl::StrCat("helper protocol ", kHelperProtocolVersion + 1)),
                     HasSubstr("reinstall"))));
  // The helper's refusal reaches the agent as a clear error too.
  absl::StatusOr<HttpRequest> refused = DecodeHelperRequest(old_request.SerializeAsString());
  EXPECT_THAT(DecodeHelperOutcome(EncodeHelperOutcome(refused.status())),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("reinstall")));
}

}  // namespace
}  // namespace datagen
