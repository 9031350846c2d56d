#include "client/render.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace datagen::cli {
namespace {

TEST(Render, StatusTextIsExactlyTheDocumentedForm) {
  agent::v1::GetStatusResponse reply;
  reply.set_email("you@yourcompany.com");
  reply.set_active_org_slug("yourcompany");
  reply.set_role("admin");
  reply.set_api_url("http://127.0.0.1:1");
  EXPECT_EQ(Render(reply, Format::kText),
            "email: you@yourcompany.com\nactive_org_slug: yourcompany\nrole: admin\n");
}

TEST(Render, OrgListTextIsExactlyTheDocumentedForm) {
  agent::v1::ListOrgsResponse reply;
  reply.set_active_org_slug("yourcompany");
  auto* a = reply.add_memberships();
  a->set_slug("yourcompany");
  a->set_role("admin");
  a->set_active(true);
  auto* b = reply.add_memberships();
  b->set_slug("test-org");
  b->set_role("member");
  // As the agent answers for the default profile: the text is the documented form, unchanged
  // by profiles; JSON also says which profile and where the organization came from.
  reply.set_profile("default");
  reply.set_org_source("file");
  EXPECT_EQ(Render(reply, Format::kText),
            "active_org_slug: yourcompany\nmemberships:\n- yourcompany (admin, active)\n"
            "- test-org (member)\n");
  EXPECT_EQ(Render(reply, Format::kJson),
            "{\"active_org_slug\":\"yourcompany\",\"memberships\":[{\"slug\":\"yourcompany\","
            "\"role\":\"admin\",\"active\":true},{\"slug\":\"test-org\",\"role\":\"member\","
            "\"active\":false}],\"warnings\":[],\"unverified\":false,\"profile\":\"default\","
            "\"org_source\":\"file\"}\n");
  // Another profile, and an organization chosen in the shell, are named in the text too.
  reply.set_profile("home");
  reply.set_org_source("env");
  EXPECT_EQ(Render(reply, Format::kText),
            "profile: home\nactive_org_slug: yourcompany\norg_source: env\nmemberships:\n"
            "- yourcompany (admin, active)\n- test-org (member)\n");
}

TEST(Render, LoginTextIsExactlyTheDocumentedForm) {
  agent::v1::DeviceCode code;
  code.set_user_code("QXTR-9PLN");
  code.set_verification_uri("https://datagen.example/device");
  EXPECT_EQ(Render(code, Format::kText),
            "User code: QXTR-9PLN\nVerify at: https://datagen.example/device\n");
  agent::v1::LoginResult result;
  result.set_status("authenticated");
  result.set_email("you@yourcompany.com");
  result.set_active_org_slug("yourcompany");
  EXPECT_EQ(Render(result, Format::kText),
            "status: authenticated\nemail: you@yourcompany.com\nactive_org_slug: yourcompany\n");
}

TEST(Render, LogoutAndErrors) {
  agent::v1::LogoutResponse reply;
  reply.set_status("no_credential");
  EXPECT_EQ(Render(reply, Format::kText), "status: no_credential\n");
  EXPECT_EQ(RenderJsonError("usage", "say \"why\"\n"),
            "{\"error\":{\"code\":\"usage\",\"message\":\"say \\\"why\\\"\\n\"}}\n");
  EXPECT_EQ(CodeName(grpc::StatusCode::UNAUTHENTICATED), "unauthenticated");
  EXPECT_EQ(CodeName(grpc::StatusCode::DATA_LOSS), "data_loss");
}

TEST(Render, EveryCodeHasItsLowerCaseName) {
  const std::pair<grpc::StatusCode, const char*> names[] = {
      {grpc::StatusCode::OK, "ok"},
      {grpc::StatusCode::CANCELLED, "cancelled"},
      {grpc::StatusCode::UNKNOWN, "unknown"},
      {grpc::StatusCode::INVALID_ARGUMENT, "invalid_argument"},
      {grpc::StatusCode::DEADLINE_EXCEEDED, "deadline_exceeded"},
      {grpc::StatusCode::NOT_FOUND, "not_found"},
      {grpc::StatusCode::ALREADY_EXISTS, "already_exists"},
      {grpc::StatusCode::PERMISSION_DENIED, "permission_denied"},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, "resource_exhausted"},
      {grpc::StatusCode::FAILED_PRECONDITION, "failed_precondition"},
      {grpc::StatusCode::ABORTED, "aborted"},
      {grpc::StatusCode::OUT_OF_RANGE, "out_of_range"},
      {grpc::StatusCode::UNIMPLEMENTED, "unimplemented"},
      {grpc::StatusCode::INTERNAL, "internal"},
      {grpc::StatusCode::UNAVAILABLE, "unavailable"},
      {grpc::StatusCode::DATA_LOSS, "data_loss"},
      {grpc::StatusCode::UNAUTHENTICATED, "unauthenticated"},
  };
  for (const auto& [code, name] : names) EXPECT_EQ(CodeName(code), name);
  EXPECT_EQ(CodeName(static_cast<grpc::StatusCode>(99)), "unknown");
}

}  // namespace
}  // namespace datagen::cli
