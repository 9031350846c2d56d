#include "tools/fake_server/fake_identity_server.h"

#include <httplib.h>

#include <thread>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace datagen::fake {
namespace {

std::string Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

void Reply(httplib::Response& res, int status, const google::protobuf::Message& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(Json(body), "application/json");
}

void OAuthError(httplib::Response& res, int status, const std::string& error,
                const std::string& description) {
  server::v1::ErrorResponse body;
  body.set_error(error);
  body.set_error_description(description);
  Reply(res, status, body);
}

google::protobuf::Struct Object(
    std::initializer_list<std::pair<std::string, google::protobuf::Value>> fields) {
  google::protobuf::Struct out;
  for (const auto& [key, value] : fields) (*out.mutable_fields())[key] = value;
  return out;
}

google::protobuf::Value String(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}
google::protobuf::Value Number(double d) {
  google::protobuf::Value v;
  v.set_number_value(d);
  return v;
}
google::protobuf::Value Bool(bool b) {
  google::protobuf::Value v;
  v.set_bool_value(b);
  return v;
}

std::string BearerToken(const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  if (header.size() > 7 && absl::EqualsIgnoreCase(header.substr(0, 7), "bearer ")) {
    return header.substr(7);
  }
  return "";
}

}  // namespace

server::v1::UserDirectory DefaultUsers() {
  server::v1::UserDirectory users;
  server::v1::UserInfo* you = users.add_users();
  you->set_sub("u_123");
  you->set_email("you@yourcompany.com");
  auto* m = you->add_memberships();
  m->set_slug("yourcompany");
  m->set_role("admin");
  m->set_is_default(true);
  m = you->add_memberships();
  m->set_slug("test-org");
  m->set_role("member");
  server::v1::UserInfo* solo = users.add_users();
  solo->set_sub("u_456");
  solo->set_email("solo@example.com");
  return users;
}

FakeIdentityServer::FakeIdentityServer(Options options)
    : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  Routes();
}

FakeIdentityServer::~FakeIdentityServer() { Stop(); }

int FakeIdentityServer::Start() {
  port_ = options_.port == 0
              ? http_->bind_to_any_port(options_.host)
              : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port_ < 0) return -1;
  thread_ = std::make_unique<std::thread>([this] { http_->listen_after_bind(); });
  return port_;
}

void FakeIdentityServer::Stop() {
  if (thread_) {
    http_->stop();
    thread_->join();
    thread_.reset();
  }
}

std::string FakeIdentityServer::base_url() const {
  return absl::StrFormat("http://%s:%d", options_.host, port_);
}

std::string FakeIdentityServer::EndpointPath(const std::string& name) const {
  static const std::map<std::string, std::pair<std::string, std::string>> kPaths = {
      // name: {advertised through discovery, default path}
      {"device", {"/o/device", "/oauth/device/code"}},
      {"token", {"/o/token", "/oauth/token"}},
      {"revoke", {"/o/revoke", "/oauth/revoke"}},
      {"userinfo", {"/o/userinfo", "/v1/me"}},
  };
  const auto& paths = kPaths.at(name);
  return options_.discovery == DiscoveryMode::kNone ? paths.second : paths.first;
}

const server::v1::UserInfo* FakeIdentityServer::FindUser(const std::string& email) const {
  for (const auto& user : options_.users.users()) {
    if (user.email() == email) return &user;
  }
  return nullptr;
}

std::string FakeIdentityServer::Mint(const std::string& email, absl::Duration lifetime) {
  absl::BitGen gen;
  std::string token = "dgat_";
  for (int i = 0; i < 32; ++i) {
    absl::StrAppend(&token, absl::Hex(absl::Uniform<uint8_t>(gen), absl::kZeroPad2));
  }
  TokenInfo info;
  info.email = email;
  if (lifetime != absl::InfiniteDuration()) info.expires_at = absl::Now() + lifetime;
  tokens_[token] = info;
  return token;
}

void FakeIdentityServer::Routes() {
  httplib::Server& http = *http_;
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Paths and statuses only: bodies and headers carry tokens.
    std::fprintf(stderr, "fake_server: %s %s -> %d\n", req.method.c_str(), req.path.c_str(),
                 res.status);
  });

  auto metadata = [this](const httplib::Request&, httplib::Response& res) {
    std::string base = base_url();
    server::v1::ServerMetadata doc;
    doc.set_issuer(base);
    doc.set_device_authorization_endpoint(base + EndpointPath("device"));
    doc.set_token_endpoint(base + EndpointPath("token"));
    doc.set_revocation_endpoint(base + EndpointPath("revoke"));
    doc.set_userinfo_endpoint(base + EndpointPath("userinfo"));
    Reply(res, 200, doc);
  };
  if (options_.discovery == DiscoveryMode::kOidc) {
    http.Get("/.well-known/openid-configuration", metadata);
  }
  if (options_.discovery != DiscoveryMode::kNone) {
    http.Get("/.well-known/oauth-authorization-server", metadata);
  }

  http.Get(EndpointPath("userinfo"), [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    if (faults_.userinfo_status != 0) {
      OAuthError(res, faults_.userinfo_status, "server_error", "fault injected");
      return;
    }
    if (faults_.userinfo_garbage) {
      res.set_content("<html>not json</html>", "text/html");
      return;
    }
    auto it = tokens_.find(BearerToken(req));
    if (it == tokens_.end() || it->second.revoked || it->second.expires_at < absl::Now()) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      OAuthError(res, 401, "invalid_token", "the access token is invalid, expired or revoked");
      return;
    }
    const server::v1::UserInfo* user = FindUser(it->second.email);
    if (user == nullptr) {
      OAuthError(res, 401, "invalid_token", "the token's user no longer exists");
      return;
    }
    Reply(res, 200, *user);
  });

  http.Post(EndpointPath("revoke"), [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    if (faults_.revocation_status != 0) {
      OAuthError(res, faults_.revocation_status, "server_error", "fault injected");
      return;
    }
    if (req.get_param_value("client_id") != options_.client_id) {
      OAuthError(res, 401, "invalid_client", "unknown or missing client_id");
      return;
    }
    std::string token = req.get_param_value("token");
    if (token.empty()) {
      OAuthError(res, 400, "invalid_request", "token is required");
      return;
    }
    if (auto it = tokens_.find(token); it != tokens_.end() && !it->second.revoked) {
      it->second.revoked = true;
      ++revocations_;
    }
    res.status = 200;  // RFC 7009 §2.2: 200 for unknown tokens too
  });

  // --- Test administration -------------------------------------------------------------------
  http.Post("/_admin/tokens", [this](const httplib::Request& req, httplib::Response& res) {
    std::string email = req.get_param_value("email");
    if (FindUser(email) == nullptr) {
      OAuthError(res, 400, "unknown_user", "no such user");
      return;
    }
    int64_t seconds = 0;
    absl::Duration lifetime = absl::SimpleAtoi(req.get_param_value("expires_in"), &seconds)
                                  ? absl::Seconds(seconds)
                                  : absl::InfiniteDuration();
    absl::MutexLock lock(&mu_);
    Reply(res, 200, Object({{"access_token", String(Mint(email, lifetime))}}));
  });
  http.Post("/_admin/revoke", [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    auto it = tokens_.find(req.get_param_value("token"));
    if (it != tokens_.end()) it->second.revoked = true;
    res.status = it != tokens_.end() ? 200 : 404;
  });
  http.Post("/_admin/introspect", [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    auto it = tokens_.find(req.get_param_value("token"));
    bool active =
        it != tokens_.end() && !it->second.revoked && it->second.expires_at >= absl::Now();
    Reply(res, 200,
          Object({{"active", Bool(active)},
                  {"known", Bool(it != tokens_.end())},
                  {"email", String(it != tokens_.end() ? it->second.email : "")}}));
  });
  http.Get("/_admin/stats", [this](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    Reply(res, 200,
          Object({{"revocations", Number(revocations_)},
                  {"tokens", Number(static_cast<double>(tokens_.size()))}}));
  });
  http.Post("/_admin/fault", [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, value] : req.params) {
      int number = 0;
      bool numeric = absl::SimpleAtoi(value, &number);
      if (name == "reset") {
        faults_ = Faults();
      } else if (name == "userinfo_status" && numeric) {
        faults_.userinfo_status = number;
      } else if (name == "revocation_status" && numeric) {
        faults_.revocation_status = number;
      } else if (name == "userinfo_garbage") {
        faults_.userinfo_garbage = value == "1";
      } else {
        res.status = 400;
        res.set_content(absl::StrCat("unknown fault or bad value: ", name), "text/plain");
        return;
      }
    }
    res.status = 200;
  });
}

}  // namespace datagen::fake
