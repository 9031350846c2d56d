// An example of a datagen command built on //client:session_credentials: asks the agent for the
// session (profile and organization as every datagen command chooses them), then calls the
// identity server's userinfo endpoint with the token and prints who the server says you are.
//
//   whoami [--profile NAME] [--org SLUG]
//
// Exit 0 with "email <email>\norg <org>\nissuer <url>\n"; 4 when not signed in; 1 otherwise.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/common/json.h"
#include "agent/http/curl_http_transport.h"
#include "client/session_credentials.h"
#include "google/protobuf/struct.pb.h"

namespace {

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "whoami: %s\n", message.c_str());
  return code;
}

// The issuer's userinfo endpoint, from its discovery document.
absl::StatusOr<std::string> UserinfoEndpoint(datagen::HttpTransport& http,
                                             const std::string& issuer) {
  datagen::HttpRequest request;
  request.url = issuer + "/.well-known/openid-configuration";
  absl::StatusOr<datagen::HttpResponse> response = http.Send(request);
  if (!response.ok()) return response.status();
  google::protobuf::Struct doc;
  if (response->status != 200 || !datagen::ParseJson(response->body, "discovery", &doc).ok()) {
    return absl::UnavailableError(absl::StrCat("no discovery document at ", issuer));
  }
  auto it = doc.fields().find("userinfo_endpoint");
  if (it == doc.fields().end()) return absl::UnavailableError("no userinfo_endpoint");
  return it->second.string_value();
}

}  // namespace

int main(int argc, char** argv) {
  datagen::CredentialsRequest ask;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--profile" && i + 1 < args.size()) {
      ask.profile = args[++i];
    } else if (args[i] == "--org" && i + 1 < args.size()) {
      ask.org = args[++i];
    } else {
      return Fail("usage: whoami [--profile NAME] [--org SLUG]", 2);
    }
  }
  absl::StatusOr<datagen::SessionCredentials> session = datagen::GetSessionCredentials(ask);
  if (!session.ok()) {
    return Fail(std::string(session.status().message()),
                absl::IsUnauthenticated(session.status()) ? 4 : 1);
  }
  datagen::CurlHttpTransport::GlobalInit();
  datagen::CurlHttpTransport http;
  absl::StatusOr<std::string> userinfo = UserinfoEndpoint(http, session->api_url);
  if (!userinfo.ok()) return Fail(std::string(userinfo.status().message()), 1);
  datagen::HttpRequest request;
  request.url = *userinfo;
  request.headers = {{"Authorization", session->token_type + " " + session->token}};
  absl::StatusOr<datagen::HttpResponse> response = http.Send(request);
  if (!response.ok()) return Fail(std::string(response.status().message()), 1);
  if (response->status != 200) return Fail(absl::StrCat("userinfo answered ", response->status), 1);
  google::protobuf::Struct me;
  if (!datagen::ParseJson(response->body, "userinfo", &me).ok()) return Fail("bad userinfo", 1);
  auto email = me.fields().find("email");
  std::printf("email %s\norg %s\nissuer %s\n",
              email == me.fields().end() ? "?" : email->second.string_value().c_str(),
              session->org.c_str(), session->api_url.c_str());
  return 0;
}
