// Fuzz target: every reply of the identity server the agent parses (docs/identity-server.md): the
// discovery document, the device authorization, the token endpoint while polling and when
// refreshing, userinfo and revocation. The first bytes choose the exchange, the HTTP status,
// the Content-Type and a Retry-After; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "agent/oauth/device_flow.h"
#include "agent/oauth/discovery.h"
#include "agent/oauth/identity_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_http_transport.h"

namespace {

constexpr char kIssuer[] = "https://id.example";
constexpr int kStatuses[] = {200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 503, 999};
constexpr const char* kContentTypes[] = {"application/json", "application/x-www-form-urlencoded",
                                         "", "text/html", "application/json; charset=utf-8"};
constexpr const char* kRetryAfter[] = {
    "", "1", "0", "-5", "99999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"};

template <size_t N, typename T>
const T& Pick(const T (&options)[N], uint8_t byte) {
  return options[byte % N];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t exchange = data[0] % 6;
  const int status = Pick(kStatuses, data[1]);
  std::vector<std::pair<std::string, std::string>> headers;
  if (std::string type = Pick(kContentTypes, data[2]); !type.empty()) {
    headers.emplace_back("content-type", type);
  }
  if (std::string retry = Pick(kRetryAfter, data[3]); !retry.empty()) {
    headers.emplace_back("retry-after", retry);
  }
  std::string body(reinterpret_cast<const char*>(data + 4), size - 4);

  datagen::testing::FakeHttpTransport http;
  datagen::testing::FakeClock clock;
  datagen::Random& no_jitter = datagen::testing::NoJitter();
  datagen::Discovery discovery(http, kIssuer);
  if (exchange == 0) {
    http.Reply(std::string(kIssuer) + "/.well-known/openid-configuration", status, body, headers);
    (void)discovery.Get();
    return 0;
  }
  // Every other exchange runs against the default endpoints (no discovery document).
  absl::StatusOr<datagen::Endpoints> endpoints = discovery.Get();
  if (!endpoints.ok()) __builtin_trap();
  datagen::IdentityClient identity(http, discovery, "datagen-cli");
  switch (exchange) {
    case 1: {
      http.Reply(endpoints->device_authorization, status, body, headers);
      datagen::DeviceFlow flow(http, clock, no_jitter, *endpoints, "datagen-cli", "");
      (void)flow.Start();
      break;
    }
    case 2: {
      http.Reply(endpoints->device_authorization, 200,
                 R"({"device_code":"d","user_code":"ABCD-EFGH",)"
                 R"("verification_uri":"https://id.example/device","expires_in":600})",
                 {{"content-type", "application/json"}});
      http.Reply(endpoints->token, status, body, headers);
      datagen::DeviceFlow flow(http, clock, no_jitter, *endpoints, "datagen-cli", "");
      if (!flow.Start().ok()) __builtin_trap();
      clock.Advance(flow.next_poll_at() - clock.Now());
      absl::StatusOr<std::optional<datagen::IssuedTokens>> polled = flow.Poll();
      // A poll that goes on always moves the next poll into the future, within the code's life.
      if (polled.ok() && !polled->has_value() && flow.next_poll_at() <= clock.Now()) {
        __builtin_trap();
      }
      break;
    }
    case 3:
      http.Reply(endpoints->userinfo, status, body, headers);
      (void)identity.FetchUserInfo("dgat_token");
      break;
    case 4:
      http.Reply(endpoints->revocation, status, body, headers);
      (void)identity.Revoke("dgat_token", "access_token");
      break;
    case 5:
      http.Reply(endpoints->token, status, body, headers);
      (void)identity.Refresh("dgrt_refresh");
      break;
  }
  return 0;
}
