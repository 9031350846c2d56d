#include "agent/common/json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/datagen/agent/v1/agent.pb.h"
#include "proto/datagen/server/v1/server_api.pb.h"
#include "tests/testing/status_matchers.h"

namespace datagen {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::Not;
using testing::StatusIs;

TEST(ParseJson, IgnoresUnknownFieldsAndReadsKnownOnes) {
  server::v1::UserInfo info;
  ASSERT_THAT(ParseJson(R"({"email":"a@b.c","extra":{"x":[1,2]},"memberships":[
                {"slug":"s","role":"admin","default":true}]})",
                        "userinfo", &info),
              IsOk());
  EXPECT_EQ(info.email(), "a@b.c");
  ASSERT_EQ(info.memberships_size(), 1);
  EXPECT_TRUE(info.memberships(0).is_default());
}

TEST(ParseJson, WrongTypesAreErrorsThatDoNotQuoteTheInput) {
  agent::v1::Credentials credentials;
  absl::Status status =
      ParseJson(R"({"token": "dgat_secret", "email": 12, "stored_at": "dgat_secret2"})", "the file",
                &credentials);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the file")));
  EXPECT_THAT(std::string(status.message()), HasSubstr("(field "));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("dgat_secret")));
  EXPECT_EQ(credentials.token(), "") << "nothing half-parsed is kept";
}

TEST(ParseJson, NotJsonAndDeepNestingAreErrors) {
  server::v1::UserInfo info;
  EXPECT_THAT(ParseJson("<html>", "reply", &info), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseJson(std::string(10000, '[') + std::string(10000, ']'), "reply", &info),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too deeply")));
  EXPECT_THAT(ParseJson(R"({"email": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", "reply", &info),
              IsOk())
      << "brackets inside strings do not count";
}

TEST(ToJson, UsesProtoFieldNames) {
  agent::v1::Membership m;
  m.set_slug("x");
  EXPECT_EQ(ToJson(m), R"({"slug":"x"})");
  EXPECT_EQ(ToJson(m, /*all_fields=*/true), R"({"slug":"x","role":"","active":false})");
}

}  // namespace
}  // namespace datagen
