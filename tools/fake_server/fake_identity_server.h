// A small but real OAuth 2.0 / OpenID Connect identity server for the demo and the tests,
// serving what docs/identity-server.md describes on a loopback port, plus /_admin/
// endpoints through which tests mint and inspect tokens and switch fault modes on.
#ifndef DATAGEN_TOOLS_FAKE_SERVER_FAKE_IDENTITY_SERVER_H_
#define DATAGEN_TOOLS_FAKE_SERVER_FAKE_IDENTITY_SERVER_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace datagen::fake {

// How the server advertises its endpoints.
enum class DiscoveryMode {
  kOidc,     // /.well-known/openid-configuration, endpoints under /o/
  kRfc8414,  // /.well-known/oauth-authorization-server only, endpoints under /o/
  kNone,     // no metadata: the default paths (/oauth/..., /v1/me)
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  DiscoveryMode discovery = DiscoveryMode::kOidc;
  std::string client_id = "datagen-cli";
  server::v1::UserDirectory users;
  // Device flow (all changeable at run time through POST /_admin/config).
  int device_expires_in = 600;  // seconds a device code stays valid
  int interval = 5;             // advertised polling interval; < 0: omitted from the reply
  int auto_approve_after = -1;  // approve as the first user this many seconds after issue
  int token_expires_in = 0;     // access token lifetime; 0: no expiry, no expires_in
  bool issue_refresh_tokens = false;
};

// The built-in users: you@yourcompany.com (yourcompany admin default, test-org member) and
// solo@example.com (no organization).
server::v1::UserDirectory DefaultUsers();

// Thread-safe. Serves on its own threads from Start() until Stop() or destruction.
class FakeIdentityServer {
 public:
  explicit FakeIdentityServer(Options options);
  ~FakeIdentityServer();

  // Binds and starts serving. Returns the port, or -1 when it could not bind.
  int Start();
  void Stop();
  std::string base_url() const;

 private:
  struct TokenInfo {
    std::string email;
    // The grant (one approved login and every refresh after it) the token belongs to.
    int grant_family = 0;
    bool revoked = false;
    absl::Time expires_at = absl::InfiniteFuture();
  };
  // Fault switches, set through POST /_admin/fault (name=value pairs; value "" clears).
  struct Faults {
    int userinfo_status = 0;    // answer userinfo with this status
    int revocation_status = 0;  // answer revocation with this status
    bool userinfo_garbage = false;
    int device_status = 0;  // answer device authorization with this status
    bool down = false;      // drop every connection but /_admin/ (state is kept)
    // A hostile reply (see HostileReply) for every device authorization / userinfo request.
    std::string device_reply;
    std::string userinfo_reply;
    // The issuer the discovery documents name ("": the server's own base URL).
    std::string discovery_issuer;
  };

  // One queued misbehaviour of the token endpoint: `kind` for the next `count` polls.
  struct TokenFault {
    std::string kind;  // slow_down 429 503 429date 500 garbage garbage400 oversized oversized500
                       // drop hang deny expire invalid_grant, or a HostileReply kind
    int count = 1;
    int arg = 0;  // Retry-After seconds (429/503/429date), seconds to hang (hang)
  };
  struct Grant {
    std::string device_code;
    std::string user_code;
    absl::Time created;
    absl::Time expires_at;
    int interval = 5;  // what the server enforces (grows by 5 s on slow_down)
    enum State { kPending, kApproved, kDenied, kConsumed } state = kPending;
    std::string email;
    std::vector<absl::Time> polls;
    int too_fast = 0;
  };

  // Answers with a hostile reply of `kind` when it is one (true), for the reliability suite:
  //   redirect            302 back to the same path (a loop)
  //   trickle             a 200 that sends one byte every 250 ms for `arg` s (default 40)
  //   nonutf8             `status` with an OAuth error and fields that are not UTF-8
  //   nested              200, 100000 nested JSON arrays
  //   wrongtypes          200, every field of every reply with the wrong JSON type
  //   huge_numbers        200, a well-formed reply whose expires_in / interval are 1e14
  //   overflow_numbers    200, the same with 1e300 (no integer type holds it)
  //   negative_numbers    200, the same with -5
  // `path` is the request's; `endpoint` ("device", "token", "userinfo") picks the reply shape.
  bool HostileReply(const std::string& kind, const std::string& endpoint,
                    const httplib::Request& req, httplib::Response& res, int status, int arg)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Routes();
  void DeviceRoutes();
  std::string DevicePage(const std::string& user_code, const std::string& message) const;
  Grant* FindByUserCode(const std::string& user_code) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Mint(const std::string& email, absl::Duration lifetime, int grant_family = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const server::v1::UserInfo* FindUser(const std::string& email) const;
  std::string EndpointPath(const std::string& name) const;

  const Options options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<std::thread> thread_;
  int port_ = -1;

  mutable absl::Mutex mu_;
  std::map<std::string, TokenInfo> tokens_ ABSL_GUARDED_BY(mu_);
  Faults faults_ ABSL_GUARDED_BY(mu_);
  std::deque<TokenFault> token_faults_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Grant> grants_ ABSL_GUARDED_BY(mu_);  // by device code
  int device_expires_in_ ABSL_GUARDED_BY(mu_);
  int interval_ ABSL_GUARDED_BY(mu_);
  int auto_approve_after_ ABSL_GUARDED_BY(mu_);
  int token_expires_in_ ABSL_GUARDED_BY(mu_);
  bool issue_refresh_tokens_ ABSL_GUARDED_BY(mu_);
  bool form_replies_ ABSL_GUARDED_BY(mu_) = false;  // successful token replies as a form
  // Every reply's Date header is this many seconds off the real time (a server with a wrong
  // clock, for datagen auth doctor).
  int clock_offset_ ABSL_GUARDED_BY(mu_) = 0;
  // A refresh token; rotation leaves it `used`. Presenting a used one again revokes its whole
  // grant (every access and refresh token of the family), as oidc-provider, Keycloak and Auth0
  // can be configured to do: reuse means two parties hold it.
  struct RefreshTokenInfo {
    std::string email;
    int grant_family = 0;
    bool used = false;
  };
  std::map<std::string, RefreshTokenInfo> refresh_tokens_ ABSL_GUARDED_BY(mu_);
  int next_grant_family_ ABSL_GUARDED_BY(mu_) = 1;
  int refresh_reuses_ ABSL_GUARDED_BY(mu_) = 0;  // grants revoked for a reused refresh token
  int refreshes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification stopping_;
  int revocations_ ABSL_GUARDED_BY(mu_) = 0;
  int userinfo_requests_ ABSL_GUARDED_BY(mu_) = 0;
  // Bearer tokens (userinfo) and revocations this server never issued: a client that sends a
  // token to the wrong issuer shows here.
  int foreign_tokens_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> issued_secrets_
      ABSL_GUARDED_BY(mu_);  // GET /_admin/secrets  // every userinfo request, answered or not
};

}  // namespace datagen::fake

#endif  // DATAGEN_TOOLS_FAKE_SERVER_FAKE_IDENTITY_SERVER_H_
