// The OAuth 2.0 Device Authorization Grant (RFC 8628) as a state machine. It does no I/O of its
// own: HTTP goes through the injected HttpTransport and time through the injected Clock, so
// tests drive every branch exactly, without sleeping.
#ifndef DATAGEN_AGENT_OAUTH_DEVICE_FLOW_H_
#define DATAGEN_AGENT_OAUTH_DEVICE_FLOW_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agent/common/clock.h"
#include "agent/common/random.h"
#include "agent/http/http_transport.h"
#include "agent/oauth/discovery.h"
#include "agent/oauth/token_reply.h"

namespace datagen {

// What the server issued for the user to confirm (RFC 8628 §3.2).
// OK when `uri` (a verification_uri or verification_uri_complete from the server) may be shown
// and opened for a login at `issuer`: https, or http on a loopback host when the issuer is on a
// loopback host too. FailedPrecondition naming the page and the rule otherwise.
absl::Status CheckVerificationUri(absl::string_view uri, absl::string_view issuer);

struct DeviceAuthorization {
  std::string device_code;  // secret: never logged, never sent to clients
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;  // "" when the server gave none
  absl::Time expires_at;                  // received + expires_in (wall clock, for people)
  absl::Time deadline;                    // the same on the monotonic clock: when polling ends
  absl::Duration interval;                // the server's, else 5 s
};

// One login. Not thread-safe: one thread drives it (so polls never overlap).
//
// Rules (RFC 8628, docs/identity-server.md, the device flow): the interval defaults to 5 s;
// slow_down adds 5 s to it for that poll and every later one; 429/503 with Retry-After (seconds or
// HTTP date) wait that long (at least the interval); other transient failures (connection errors,
// timeouts, 5xx, unreadable or oversized replies) back off exponentially from the interval, capped
// at 60 s; access_denied, expired_token and any other OAuth error end the login; so does reaching
// expires_at, with the last transient failure named. A 200 that is not a token reply at all (a
// page that is not JSON or a form, or one too large to read: a captive portal or a proxy's page)
// is transient too: the device code is still good when the network is back. A 200 that is a
// token reply but a malformed one (JSON without a usable Bearer access token) ends the login,
// and nothing of it is kept.
class DeviceFlow {
 public:
  static constexpr absl::Duration kDefaultInterval = absl::Seconds(5);
  static constexpr absl::Duration kSlowDownStep = absl::Seconds(5);
  static constexpr absl::Duration kMaxBackoff = absl::Seconds(60);

  // Does not own `transport` or `clock`, which must outlive it.
  // `random`: the jitter of the backoff after transient failures (never under the interval).
  DeviceFlow(HttpTransport& transport, Clock& clock, Random& random, Endpoints endpoints,
             std::string client_id, std::string scope);

  // Requests a device code (§3.1). Errors: Unavailable when the server cannot be reached or
  // answers 5xx/429; FailedPrecondition when it refuses (e.g. invalid_client); Unknown when the
  // reply is malformed.
  absl::StatusOr<DeviceAuthorization> Start(const absl::Notification* cancel = nullptr);

  // One token request (§3.4), to be made at or after next_poll_at(). Returns the tokens when
  // the user approved, nullopt when the login goes on (next_poll_at() has moved), or an error
  // that ends the login: PermissionDenied (access_denied), DeadlineExceeded (expired_token or
  // expires_at reached), Unknown (another OAuth error, or a malformed success), Cancelled.
  absl::StatusOr<std::optional<IssuedTokens>> Poll(const absl::Notification* cancel = nullptr);

  // Start's authorization, then Polls at next_poll_at() (sleeping on the clock) until the login
  // ends. Cancelled as soon as `cancel` is notified.
  absl::StatusOr<IssuedTokens> Run(absl::Notification& cancel);

  // On the clock's monotonic time.
  absl::Time next_poll_at() const { return next_poll_at_; }
  absl::Duration interval() const { return interval_; }
  absl::Time expires_at() const { return authorization_.expires_at; }
  absl::Time deadline() const { return authorization_.deadline; }
  int polls() const { return polls_; }

 private:
  // Schedules the next poll `delay` from now, never later than the expiry.
  void ScheduleIn(absl::Duration delay);
  // Backoff after the n-th consecutive transient failure.
  absl::Duration Backoff() const;
  // A failure that may pass: the next poll backs off. Returns "no tokens yet".
  std::optional<IssuedTokens> Transient(absl::string_view why);
  // What a token endpoint's reply means (RFC 8628 3.5): tokens, "not yet", or the end.
  absl::StatusOr<std::optional<IssuedTokens>> Interpret(const HttpResponse& response);
  // An error reply's code: authorization_pending and slow_down go on; the rest end the login.
  absl::StatusOr<std::optional<IssuedTokens>> InterpretError(const TokenReply& reply);

  HttpTransport& transport_;
  Clock& clock_;
  Random& random_;
  const Endpoints endpoints_;
  const std::string client_id_;
  const std::string scope_;

  DeviceAuthorization authorization_;
  bool started_ = false;
  absl::Duration interval_ = kDefaultInterval;
  absl::Time next_poll_at_;
  int transient_failures_ = 0;
  std::string last_transient_;  // why the last poll failed transiently, for the timeout's message
  int polls_ = 0;
};

// Parses an HTTP Retry-After value: delay-seconds or an IMF-fixdate. nullopt when malformed.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now);

}  // namespace datagen

#endif  // DATAGEN_AGENT_OAUTH_DEVICE_FLOW_H_
