#include "tools/fake_server/fake_identity_server.h"

#include <httplib.h>

#include <thread>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
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

// `prefix` and 64 random hex digits.
std::string RandomSecret(absl::string_view prefix) {
  absl::BitGen gen;
  std::string secret(prefix);
  for (int i = 0; i < 32; ++i) {
    absl::StrAppend(&secret, absl::Hex(absl::Uniform<uint8_t>(gen), absl::kZeroPad2));
  }
  return secret;
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
    : options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      device_expires_in_(options_.device_expires_in),
      interval_(options_.interval),
      auto_approve_after_(options_.auto_approve_after),
      token_expires_in_(options_.token_expires_in),
      issue_refresh_tokens_(options_.issue_refresh_tokens) {
  // Enough threads for hanging requests not to starve the rest.
  http_->new_task_queue = [] { return new httplib::ThreadPool(32); };
  // httplib's default sets SO_REUSEPORT, which lets a second server bind a port already in use
  // and split its requests with the first. SO_REUSEADDR alone: a port in use fails to bind.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Routes();
  DeviceRoutes();
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
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
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

std::string FakeIdentityServer::Mint(const std::string& email, absl::Duration lifetime,
                                     int grant_family) {
  std::string token = RandomSecret("dgat_");
  TokenInfo info;
  info.email = email;
  info.grant_family = grant_family;
  if (lifetime != absl::InfiniteDuration()) info.expires_at = absl::Now() + lifetime;
  tokens_[token] = info;
  issued_secrets_.push_back(token);
  return token;
}

void FakeIdentityServer::Routes() {
  httplib::Server& http = *http_;
  // "Down": every request but the test administration loses its connection, while the
  // server's state (tokens, grants) survives for when it comes back.
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    bool down = false;
    int clock_offset = 0;
    {
      absl::MutexLock lock(&mu_);
      down = faults_.down;
      clock_offset = clock_offset_;
    }
    res.set_header(
        "Date", absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                 absl::Now() + absl::Seconds(clock_offset), absl::UTCTimeZone()));
    if (!down || absl::StartsWith(req.path, "/_admin/")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_content_provider(1000, "application/json",
                             [](size_t, size_t, httplib::DataSink&) { return false; });
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Paths and statuses only: bodies and headers carry tokens.
    std::fprintf(stderr, "fake_server: %s %s -> %d\n", req.method.c_str(), req.path.c_str(),
                 res.status);
  });

  auto metadata = [this](const httplib::Request&, httplib::Response& res) {
    std::string base = base_url();
    server::v1::ServerMetadata doc;
    {
      absl::MutexLock lock(&mu_);
      doc.set_issuer(faults_.discovery_issuer.empty() ? base : faults_.discovery_issuer);
    }
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
    std::string hostile;
    {
      absl::MutexLock lock(&mu_);
      ++userinfo_requests_;
      hostile = faults_.userinfo_reply;
    }
    if (!hostile.empty() && HostileReply(hostile, "userinfo", req, res, 200, 0)) return;
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
    if (it == tokens_.end()) ++foreign_tokens_;
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
    } else if (it == tokens_.end() && refresh_tokens_.count(token) == 0) {
      ++foreign_tokens_;
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
  // Every access token, refresh token and device code this server ever issued, one per line:
  // the tests check that none of them appears in any output or log.
  http.Get("/_admin/secrets", [this](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    res.set_content(absl::StrJoin(issued_secrets_, "\n"), "text/plain");
  });
  http.Get("/_admin/stats", [this](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    Reply(res, 200,
          Object({{"revocations", Number(revocations_)},
                  {"userinfo_requests", Number(userinfo_requests_)},
                  {"foreign_tokens", Number(foreign_tokens_)},
                  {"refreshes", Number(refreshes_)},
                  {"refresh_reuses", Number(refresh_reuses_)},
                  {"tokens", Number(static_cast<double>(tokens_.size()))}}));
  });
  http.Post("/_admin/fault", [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, value] : req.params) {
      int number = 0;
      bool numeric = absl::SimpleAtoi(value, &number);
      if (name == "reset") {
        faults_ = Faults();
        token_faults_.clear();
      } else if (name == "userinfo_status" && numeric) {
        faults_.userinfo_status = number;
      } else if (name == "revocation_status" && numeric) {
        faults_.revocation_status = number;
      } else if (name == "userinfo_garbage") {
        faults_.userinfo_garbage = value == "1";
      } else if (name == "down") {
        faults_.down = value == "1";
      } else if (name == "device_reply") {
        faults_.device_reply = value;
      } else if (name == "userinfo_reply") {
        faults_.userinfo_reply = value;
      } else if (name == "discovery_issuer") {
        faults_.discovery_issuer = value;
      } else if (name == "device_status" && numeric) {
        faults_.device_status = number;
      } else if (name == "token") {
        // kind[:count[:arg]]
        std::vector<std::string> parts = absl::StrSplit(value, ':');
        TokenFault fault;
        fault.kind = parts[0];
        if (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &fault.count)) fault.count = 1;
        if (parts.size() > 2 && !absl::SimpleAtoi(parts[2], &fault.arg)) fault.arg = 0;
        token_faults_.push_back(fault);
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

// --- Device flow (RFC 8628) -------------------------------------------------------------------
namespace datagen::fake {
namespace {

std::string RandomCode(absl::BitGen& gen) {
  // RFC 8628 §6.1: letters without vowels, easy to read and type.
  static constexpr char kAlphabet[] = "BCDFGHJKLMNPQRSTVWXZ";
  std::string code;
  for (int i = 0; i < 8; ++i) {
    if (i == 4) code.push_back('-');
    code.push_back(kAlphabet[absl::Uniform<int>(gen, 0, sizeof(kAlphabet) - 1)]);
  }
  return code;
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string NormalizeUserCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace

FakeIdentityServer::Grant* FakeIdentityServer::FindByUserCode(const std::string& user_code) {
  std::string wanted = NormalizeUserCode(user_code);
  for (auto& [device_code, grant] : grants_) {
    if (NormalizeUserCode(grant.user_code) == wanted) return &grant;
  }
  return nullptr;
}

std::string FakeIdentityServer::DevicePage(const std::string& user_code,
                                           const std::string& message) const {
  std::string options;
  for (const auto& user : options_.users.users()) {
    absl::StrAppend(&options, "<option value=\"", HtmlEscape(user.email()), "\">",
                    HtmlEscape(user.email()), "</option>");
  }
  return absl::StrCat(
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>Confirm device</title>"
      "<style>body{font-family:sans-serif;max-width:28em;margin:4em auto}"
      "input,select,button{font-size:1.2em;margin:.3em 0}</style></head><body>"
      "<h1>Sign in to datagen</h1>",
      message.empty() ? "" : absl::StrCat("<p id=\"message\">", HtmlEscape(message), "</p>"),
      "<form method=\"post\" action=\"/device\">"
      "<label>Code <input id=\"user_code\" name=\"user_code\" value=\"",
      HtmlEscape(user_code),
      "\" autocomplete=\"off\"></label><br>"
      "<label>Account <select id=\"email\" name=\"email\">",
      options,
      "</select></label><br>"
      "<button id=\"confirm\" name=\"action\" value=\"confirm\">Confirm</button> "
      "<button id=\"deny\" name=\"action\" value=\"deny\">Deny</button>"
      "</form></body></html>");
}

void FakeIdentityServer::DeviceRoutes() {
  httplib::Server& http = *http_;

  http.Post(EndpointPath("device"), [this](const httplib::Request& req, httplib::Response& res) {
    std::string hostile;
    {
      absl::MutexLock lock(&mu_);
      hostile = faults_.device_reply;
    }
    if (!hostile.empty() && HostileReply(hostile, "device", req, res, 200, 0)) return;
    absl::MutexLock lock(&mu_);
    if (faults_.device_status != 0) {
      OAuthError(res, faults_.device_status, "server_error", "fault injected");
      return;
    }
    if (req.get_param_value("client_id") != options_.client_id) {
      OAuthError(res, 401, "invalid_client", "unknown or missing client_id");
      return;
    }
    absl::BitGen gen;
    Grant grant;
    grant.device_code = RandomSecret("dgdc_");
    grant.user_code = RandomCode(gen);
    grant.created = absl::Now();
    grant.expires_at = grant.created + absl::Seconds(device_expires_in_);
    grant.interval = interval_ < 0 ? 5 : interval_;
    server::v1::DeviceAuthorizationResponse reply;
    reply.set_device_code(grant.device_code);
    reply.set_user_code(grant.user_code);
    reply.set_verification_uri(base_url() + "/device");
    reply.set_verification_uri_complete(base_url() + "/device?user_code=" + grant.user_code);
    reply.set_expires_in(device_expires_in_);
    if (interval_ >= 0) reply.set_interval(interval_);
    grants_[grant.device_code] = grant;
    issued_secrets_.push_back(grant.device_code);
    Reply(res, 200, reply);
  });

  http.Post(EndpointPath("token"), [this](const httplib::Request& req, httplib::Response& res) {
    std::string grant_type = req.get_param_value("grant_type");
    TokenFault fault;
    {
      absl::MutexLock lock(&mu_);
      if (req.get_param_value("client_id") != options_.client_id) {
        OAuthError(res, 401, "invalid_client", "unknown or missing client_id");
        return;
      }
      if (grant_type == "refresh_token") {
        auto it = refresh_tokens_.find(req.get_param_value("refresh_token"));
        if (it == refresh_tokens_.end()) {
          OAuthError(res, 400, "invalid_grant", "unknown refresh token");
          return;
        }
        if (it->second.used) {
          // Reuse: revoke the whole grant (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).
          const int family = it->second.grant_family;
          ++refresh_reuses_;
          for (auto& [token, info] : tokens_) {
            if (info.grant_family == family) info.revoked = true;
          }
          for (auto r = refresh_tokens_.begin(); r != refresh_tokens_.end();) {
            r = r->second.grant_family == family ? refresh_tokens_.erase(r) : std::next(r);
          }
          OAuthError(res, 400, "invalid_grant", "refresh token reused; the grant is revoked");
          return;
        }
        std::string email = it->second.email;
        const int family = it->second.grant_family;
        it->second.used = true;  // rotation: each refresh token works once
        ++refreshes_;
        google::protobuf::Struct body;
        absl::Duration lifetime =
            token_expires_in_ > 0 ? absl::Seconds(token_expires_in_) : absl::InfiniteDuration();
        (*body.mutable_fields())["access_token"] = String(Mint(email, lifetime, family));
        (*body.mutable_fields())["token_type"] = String("Bearer");
        if (token_expires_in_ > 0) {
          (*body.mutable_fields())["expires_in"] = Number(token_expires_in_);
        }
        std::string refresh = RandomSecret("dgrt_");
        refresh_tokens_[refresh] = {email, family, false};
        issued_secrets_.push_back(refresh);
        (*body.mutable_fields())["refresh_token"] = String(refresh);
        Reply(res, 200, body);
        return;
      }
      if (grant_type != "urn:ietf:params:oauth:grant-type:device_code") {
        OAuthError(res, 400, "unsupported_grant_type", "");
        return;
      }
      auto it = grants_.find(req.get_param_value("device_code"));
      if (it == grants_.end()) {
        OAuthError(res, 400, "invalid_grant", "unknown device code");
        return;
      }
      Grant& grant = it->second;
      absl::Time now = absl::Now();
      // Polls faster than the interval break RFC 8628 §3.5: count them (tests assert none) and
      // answer slow_down, as a strict server would.
      bool too_fast =
          !grant.polls.empty() &&
          now - grant.polls.back() < absl::Seconds(grant.interval) - absl::Milliseconds(20);
      grant.polls.push_back(now);
      if (too_fast) {
        ++grant.too_fast;
        grant.interval += 5;
        OAuthError(res, 400, "slow_down", "polling too fast");
        return;
      }
      if (!token_faults_.empty()) {
        fault = token_faults_.front();
        if (--token_faults_.front().count <= 0) token_faults_.pop_front();
        if (fault.kind == "slow_down") grant.interval += 5;
      } else if (now >= grant.expires_at) {
        OAuthError(res, 400, "expired_token", "the device code expired");
        return;
      } else if (grant.state == Grant::kDenied) {
        OAuthError(res, 400, "access_denied", "the user denied the request");
        return;
      } else if (grant.state == Grant::kConsumed) {
        OAuthError(res, 400, "invalid_grant", "the device code was already used");
        return;
      } else {
        if (grant.state == Grant::kPending && auto_approve_after_ >= 0 &&
            now - grant.created >= absl::Seconds(auto_approve_after_)) {
          grant.state = Grant::kApproved;
          grant.email = options_.users.users(0).email();
        }
        if (grant.state != Grant::kApproved) {
          OAuthError(res, 400, "authorization_pending", "waiting for the user");
          return;
        }
        grant.state = Grant::kConsumed;
        absl::Duration lifetime =
            token_expires_in_ > 0 ? absl::Seconds(token_expires_in_) : absl::InfiniteDuration();
        const int family = next_grant_family_++;
        std::string access = Mint(grant.email, lifetime, family);
        std::string refresh;
        if (issue_refresh_tokens_) {
          refresh = RandomSecret("dgrt_");
          refresh_tokens_[refresh] = {grant.email, family, false};
          issued_secrets_.push_back(refresh);
        }
        server::v1::TokenResponse body;
        body.set_access_token(access);
        body.set_token_type("Bearer");
        if (token_expires_in_ > 0) body.set_expires_in(token_expires_in_);
        body.set_refresh_token(refresh);
        body.set_scope("openid email orgs offline_access");
        if (form_replies_) {
          // As some providers answer: application/x-www-form-urlencoded.
          std::string form = absl::StrCat("access_token=", access, "&token_type=bearer",
                                          "&scope=openid+email+orgs+offline_access");
          if (token_expires_in_ > 0) absl::StrAppend(&form, "&expires_in=", token_expires_in_);
          if (!refresh.empty()) absl::StrAppend(&form, "&refresh_token=", refresh);
          res.set_content(form, "application/x-www-form-urlencoded");
          return;
        }
        Reply(res, 200, body);
        return;
      }
    }
    // A fault, answered outside the lock (some take long).
    if (fault.kind == "slow_down") {
      OAuthError(res, 400, "slow_down", "slow down");
    } else if (fault.kind == "429" || fault.kind == "503") {
      res.set_header("Retry-After", std::to_string(fault.arg > 0 ? fault.arg : 2));
      OAuthError(res, std::stoi(fault.kind), "temporarily_unavailable", "try later");
    } else if (fault.kind == "429date") {
      res.set_header("Retry-After",
                     absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                      absl::Now() + absl::Seconds(fault.arg > 0 ? fault.arg : 2),
                                      absl::UTCTimeZone()));
      OAuthError(res, 429, "temporarily_unavailable", "try later");
    } else if (fault.kind == "500") {
      OAuthError(res, 500, "server_error", "fault injected");
    } else if (fault.kind == "garbage") {
      res.status = 200;
      res.set_content("<html><body>Gateway says hello</body></html>", "text/html");
    } else if (fault.kind == "garbage400") {
      res.status = 400;
      res.set_content("\x01\x02 not json \xff", "application/octet-stream");
    } else if (fault.kind == "oversized" || fault.kind == "oversized500") {
      res.status = fault.kind == "oversized" ? 200 : 500;
      res.set_content(std::string(2 << 20, ' ') + "{}", "application/json");
    } else if (fault.kind == "drop") {
      // Headers promise 1000 bytes, then the connection is cut.
      res.set_content_provider(1000, "application/json",
                               [](size_t, size_t, httplib::DataSink&) { return false; });
    } else if (fault.kind == "hang") {
      stopping_.WaitForNotificationWithTimeout(absl::Seconds(fault.arg > 0 ? fault.arg : 30));
      OAuthError(res, 500, "server_error", "woke up");
    } else if (fault.kind == "deny") {
      OAuthError(res, 400, "access_denied", "the user denied the request");
    } else if (fault.kind == "expire") {
      OAuthError(res, 400, "expired_token", "the device code expired");
    } else if (fault.kind == "invalid_grant") {
      OAuthError(res, 400, "invalid_grant", "the grant is broken on purpose");
    } else if (HostileReply(fault.kind, "token", req, res, 400, fault.arg)) {
    } else {
      OAuthError(res, 500, "server_error", "unknown fault " + fault.kind);
    }
  });

  http.Get("/device", [this](const httplib::Request& req, httplib::Response& res) {
    res.set_content(DevicePage(req.get_param_value("user_code"), ""), "text/html; charset=utf-8");
  });
  http.Post("/device", [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    Grant* grant = FindByUserCode(req.get_param_value("user_code"));
    std::string email = req.get_param_value("email");
    if (email.empty() || FindUser(email) == nullptr) email = options_.users.users(0).email();
    if (grant == nullptr || grant->state != Grant::kPending || absl::Now() >= grant->expires_at) {
      res.status = 404;
      res.set_content(
          DevicePage(req.get_param_value("user_code"), "That code is unknown, used or expired."),
          "text/html; charset=utf-8");
      return;
    }
    bool confirm = req.get_param_value("action") != "deny";
    grant->state = confirm ? Grant::kApproved : Grant::kDenied;
    grant->email = email;
    res.set_content(
        absl::StrCat("<!doctype html><html><body><h1 id=\"done\">",
                     confirm ? "Device confirmed" : "Request denied",
                     "</h1><p>You can close this window and return to your terminal.</p>"
                     "</body></html>"),
        "text/html; charset=utf-8");
  });

  // --- Test administration of the device flow ---
  http.Post("/_admin/config", [this](const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, value] : req.params) {
      int n = 0;
      if (!absl::SimpleAtoi(value, &n)) {
        res.status = 400;
        return;
      }
      if (name == "device_expires_in")
        device_expires_in_ = n;
      else if (name == "interval")
        interval_ = n;
      else if (name == "auto_approve_after")
        auto_approve_after_ = n;
      else if (name == "token_expires_in")
        token_expires_in_ = n;
      else if (name == "refresh")
        issue_refresh_tokens_ = n != 0;
      else if (name == "form_replies")
        form_replies_ = n != 0;
      else if (name == "clock_offset")
        clock_offset_ = n;
      else {
        res.status = 400;
        return;
      }
    }
    res.status = 200;
  });
  auto decide = [this](bool approve) {
    return [this, approve](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      Grant* grant = FindByUserCode(req.get_param_value("user_code"));
      if (grant == nullptr) {
        res.status = 404;
        return;
      }
      grant->state = approve ? Grant::kApproved : Grant::kDenied;
      std::string email = req.get_param_value("email");
      grant->email = email.empty() ? options_.users.users(0).email() : email;
      res.status = 200;
    };
  };
  http.Post("/_admin/approve", decide(true));
  http.Post("/_admin/deny", decide(false));
  http.Get("/_admin/grants", [this](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu_);
    google::protobuf::Struct out;
    google::protobuf::ListValue* list = (*out.mutable_fields())["grants"].mutable_list_value();
    for (const auto& [device_code, grant] : grants_) {
      google::protobuf::Struct g;
      (*g.mutable_fields())["user_code"] = String(grant.user_code);
      (*g.mutable_fields())["too_fast"] = Number(grant.too_fast);
      (*g.mutable_fields())["state"] = Number(grant.state);
      google::protobuf::ListValue* polls = (*g.mutable_fields())["poll_ms"].mutable_list_value();
      for (absl::Time t : grant.polls) {
        polls->add_values()->set_number_value(
            static_cast<double>(absl::ToInt64Milliseconds(t - grant.created)));
      }
      *list->add_values()->mutable_struct_value() = g;
    }
    Reply(res, 200, out);
  });
}

bool FakeIdentityServer::HostileReply(const std::string& kind, const std::string& endpoint,
                                      const httplib::Request& req, httplib::Response& res,
                                      int status, int arg) {
  // A well-formed reply of the endpoint, with `number` for its expires_in / interval.
  auto shaped = [&](const std::string& number) {
    if (endpoint == "device") {
      std::string code = RandomSecret("dgdc_");
      {
        absl::MutexLock lock(&mu_);
        issued_secrets_.push_back(code);
      }
      return absl::StrCat("{\"device_code\":\"", code,
                          "\",\"user_code\":\"WDJB-MJHT\",\"verification_uri\":\"", base_url(),
                          "/device\",\"expires_in\":", number, ",\"interval\":", number, "}");
    }
    if (endpoint == "token") {
      std::string token;
      {
        absl::MutexLock lock(&mu_);
        token = Mint("you@yourcompany.com", absl::Hours(1));  // a real one, for userinfo
      }
      return absl::StrCat("{\"access_token\":\"", token,
                          "\",\"token_type\":\"Bearer\",\"expires_in\":", number, "}");
    }
    return std::string("{\"sub\":\"u1\",\"email\":\"you@yourcompany.com\",\"memberships\":[]}");
  };
  if (kind == "phishing" || kind == "elsewhere") {
    // A device reply that sends the user to a page off the issuer: plain http on a host that
    // is not this machine (refused), or https on another host (shown, with a note).
    std::string page = kind == "phishing" ? "http://evil.example/device"
                                          : "https://login.elsewhere.example/device";
    std::string code = RandomSecret("dgdc_");
    {
      absl::MutexLock lock(&mu_);
      issued_secrets_.push_back(code);
    }
    res.status = 200;
    res.set_content(absl::StrCat("{\"device_code\":\"", code,
                                 "\",\"user_code\":\"WDJB-MJHT\",\"verification_uri\":\"", page,
                                 "\",\"verification_uri_complete\":\"", page,
                                 "?user_code=WDJB-MJHT\",\"expires_in\":60,\"interval\":1}"),
                    "application/json");
  } else if (kind == "newline") {
    // An OAuth error whose description tries to forge lines of its own.
    res.status = 400;
    res.set_content(
        "{\"error\":\"invalid_grant\",\"error_description\":\"denied\\nERROR forged line"
        "\\nstatus: authenticated\"}",
        "application/json");
  } else if (kind == "redirect") {
    res.status = 302;
    res.set_header("Location", req.path);
  } else if (kind == "trickle") {
    auto until = std::make_shared<absl::Time>(absl::Now() + absl::Seconds(arg > 0 ? arg : 40));
    res.status = 200;
    res.set_chunked_content_provider("application/json",
                                     [this, until](size_t offset, httplib::DataSink& sink) {
                                       if (absl::Now() >= *until || stopping_.HasBeenNotified()) {
                                         sink.done();
                                         return true;
                                       }
                                       absl::SleepFor(absl::Milliseconds(250));
                                       return sink.write(offset == 0 ? "{" : " ", 1);
                                     });
  } else if (kind == "nonutf8") {
    res.status = status;
    res.set_content(
        "{\"error\":\"bad\xff\xfe\",\"error_description\":\"\xc3\x28 \xf0\x28\x8c\x28 "
        "\x1b[31m\",\"email\":\"\xff@x\","
        "\"user_code\":\"\xff\xfe\",\"device_code\":\"\xff\"}",
        "application/json");
  } else if (kind == "nested") {
    res.status = 200;
    res.set_content(std::string(100000, '[') + std::string(100000, ']'), "application/json");
  } else if (kind == "wrongtypes") {
    res.status = 200;
    res.set_content(
        "{\"access_token\":123,\"token_type\":[\"Bearer\"],\"expires_in\":\"soon\","
        "\"device_code\":5,\"user_code\":{},\"verification_uri\":1,\"interval\":\"5\","
        "\"email\":7,\"sub\":false,\"memberships\":\"admin\"}",
        "application/json");
  } else if (kind == "huge_numbers") {
    res.status = 200;
    res.set_content(shaped("99999999999999"), "application/json");  // ~3 million years
  } else if (kind == "overflow_numbers") {
    res.status = 200;
    res.set_content(shaped("1e300"), "application/json");
  } else if (kind == "negative_numbers") {
    res.status = 200;
    res.set_content(shaped("-5"), "application/json");
  } else {
    return false;
  }
  return true;
}

}  // namespace datagen::fake
