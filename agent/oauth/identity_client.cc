#include "agent/oauth/identity_client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/common/json.h"
#include "agent/common/log.h"
#include "agent/common/text.h"

namespace datagen {
namespace {

// Roles are free-form; past this they are cut (at a character), never dropped.
constexpr size_t kMaxRoleBytes = 4096;

}  // namespace

IdentityClient::IdentityClient(HttpTransport& transport, Discovery& discovery,
                               std::string client_id)
    : transport_(transport), discovery_(discovery), client_id_(std::move(client_id)) {}

absl::StatusOr<server::v1::UserInfo> IdentityClient::FetchUserInfo(absl::string_view access_token) {
  absl::StatusOr<Endpoints> endpoints = discovery_.Get();
  if (!endpoints.ok()) return endpoints.status();
  HttpRequest request;
  request.url = endpoints->userinfo;
  request.headers = {{"Authorization", absl::StrCat("Bearer ", access_token)},
                     {"Accept", "application/json"}};
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) {
    discovery_.Invalidate();
    return TransportError(response.status(), "could not read your identity from the server");
  }
  if (response->status == 401 || response->status == 403) {
    return absl::UnauthenticatedError(
        "the server rejected your session's token (it expired or was revoked)");
  }
  if (IsRetryableHttpStatus(response->status)) {
    return absl::UnavailableError(
        absl::StrCat("the server's userinfo endpoint answered HTTP ", response->status));
  }
  if (response->status != 200) {
    return absl::UnknownError(
        absl::StrCat("the server's userinfo endpoint answered ", DescribeErrorReply(*response)));
  }
  server::v1::UserInfo info;
  if (absl::Status parsed = ParseJson(response->body, "the server's userinfo reply", &info);
      !parsed.ok()) {
    return absl::UnknownError(parsed.message());
  }
  if (info.email().empty() || info.email().size() > 320) {
    return absl::UnknownError("the server's userinfo reply has no usable email");
  }
  // Kept as the server sent them (docs/identity-server.md: printed as given), any script; only made
  // valid UTF-8 for the wire. Control characters are escaped where they are shown, never here.
  info.set_email(ValidUtf8(info.email(), 320));
  auto* memberships = info.mutable_memberships();
  for (int i = memberships->size() - 1; i >= 0; --i) {
    const auto& m = memberships->Get(i);
    if (!IsValidSlug(m.slug())) {
      LogWarning("ignoring a membership with a malformed slug in the userinfo reply");
      memberships->DeleteSubrange(i, 1);
    } else {
      memberships->Mutable(i)->set_role(ValidUtf8(m.role(), kMaxRoleBytes));
    }
  }
  return info;
}

absl::Status IdentityClient::Revoke(absl::string_view token, absl::string_view hint) {
  absl::StatusOr<Endpoints> endpoints = discovery_.Get();
  if (!endpoints.ok()) return endpoints.status();
  HttpRequest request = FormPost(endpoints->revocation, {{"token", std::string(token)},
                                                         {"token_type_hint", std::string(hint)},
                                                         {"client_id", client_id_}});
  request.timeout = absl::Seconds(10);
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) {
    discovery_.Invalidate();
    return TransportError(response.status(), "could not reach the server to revoke");
  }
  if (response->status == 200) return absl::OkStatus();
  std::string why =
      absl::StrCat("the server refused the revocation (", DescribeErrorReply(*response), ")");
  if (IsRetryableHttpStatus(response->status)) return absl::UnavailableError(why);
  return absl::UnknownError(why);
}

}  // namespace datagen

namespace datagen {

absl::StatusOr<IssuedTokens> IdentityClient::Refresh(absl::string_view refresh_token) {
  absl::StatusOr<Endpoints> endpoints = discovery_.Get();
  if (!endpoints.ok()) return endpoints.status();
  HttpRequest request = FormPost(endpoints->token, {{"grant_type", "refresh_token"},
                                                    {"refresh_token", std::string(refresh_token)},
                                                    {"client_id", client_id_}});
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) {
    discovery_.Invalidate();
    return TransportError(response.status(), "could not reach the server to refresh");
  }
  if (IsRetryableHttpStatus(response->status)) {
    return absl::UnavailableError(
        absl::StrCat("the server answered HTTP ", response->status, " to a refresh"));
  }
  absl::StatusOr<TokenReply> reply =
      ParseTokenReply(response->Header("content-type"), response->body);
  if (!reply.ok()) {
    return absl::UnknownError(
        absl::StrCat("the server's refresh reply is malformed: ", reply.status().message()));
  }
  if (reply->tokens && response->status == 200) return *std::move(reply->tokens);
  if (reply->error == "invalid_grant" || response->status == 401) {
    return absl::UnauthenticatedError(
        absl::StrCat("the server refused to refresh your session (", reply->description, ")"));
  }
  return absl::UnknownError(absl::StrCat(
      "the server refused a refresh: ",
      reply->error.empty() ? absl::StrCat("HTTP ", response->status) : reply->description));
}

}  // namespace datagen
