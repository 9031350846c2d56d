#include "agent/oauth/device_flow.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/common/backoff.h"
#include "agent/common/json.h"
#include "agent/common/log.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"
#include "agent/http/url.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {
namespace {

constexpr absl::Duration kMaxExpiresIn = absl::Hours(1);
constexpr absl::Duration kMaxInterval = absl::Minutes(5);
constexpr absl::Duration kRequestTimeout = absl::Seconds(15);

}  // namespace

absl::Status CheckVerificationUri(absl::string_view uri, absl::string_view issuer) {
  absl::StatusOr<ParsedUrl> page = ParseUrl(uri);
  if (!page.ok()) return page.status();
  if (page->scheme == "https") return absl::OkStatus();
  absl::StatusOr<ParsedUrl> at = ParseUrl(issuer);
  if (at.ok() && IsLoopbackHost(at->host) && IsLoopbackHost(page->host)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "the server asked to send you to ", PrintableText(uri, 300),
      " to enter your code; refusing: a verification page must be https (http only on this "
      "machine, for an identity server on this machine), or the code could be read or the page "
      "faked on the way (device-code phishing, RFC 8628 section 5.4); no code was shown"));
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(std::min<int64_t>(seconds, 24 * 3600));
  }
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(), &when, &error)) {
    return std::max(absl::ZeroDuration(), when - now);
  }
  return std::nullopt;
}

namespace {

// Whether a device authorization reply may be used: every field well formed (RFC 8628 §3.2),
// and its pages checked before any code is shown (a code is only ever typed into a page that is
// what it says it is; the page the browser opens is the page shown).
absl::Status ValidateDeviceReply(const server::v1::DeviceAuthorizationResponse& reply,
                                 const std::string& issuer) {
  auto malformed = [](absl::string_view what) {
    return absl::UnknownError(absl::StrCat("the device authorization reply ", what));
  };
  if (!IsTokenText(reply.device_code())) return malformed("has no valid device_code");
  if (reply.user_code().empty() || !IsPrintableText(reply.user_code(), 64)) {
    return malformed("has no valid user_code");
  }
  if (!ParseUrl(reply.verification_uri()).ok() ||
      !IsPrintableText(reply.verification_uri(), 2048)) {
    return malformed("has no valid verification_uri");
  }
  if (!reply.verification_uri_complete().empty() &&
      (!ParseUrl(reply.verification_uri_complete()).ok() ||
       !IsPrintableText(reply.verification_uri_complete(), 2048))) {
    return malformed("has an invalid verification_uri_complete");
  }
  for (const std::string* page : {&reply.verification_uri(), &reply.verification_uri_complete()}) {
    if (page->empty()) continue;
    if (absl::Status safe = CheckVerificationUri(*page, issuer); !safe.ok()) return safe;
  }
  if (!reply.verification_uri_complete().empty() &&
      ParseUrl(reply.verification_uri_complete())->host !=
          ParseUrl(reply.verification_uri())->host) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the server's verification_uri_complete (",
        PrintableText(reply.verification_uri_complete(), 300),
        ") is on another host than its verification_uri (",
        PrintableText(reply.verification_uri(), 300),
        "); refusing: the page the browser opens must be the page shown; no code was shown"));
  }
  if (reply.expires_in() <= 0) return malformed("has no positive expires_in");
  if (reply.has_interval() && reply.interval() < 0) return malformed("has a negative interval");
  return absl::OkStatus();
}

}  // namespace

DeviceFlow::DeviceFlow(HttpTransport& transport, Clock& clock, Random& random, Endpoints endpoints,
                       std::string client_id, std::string scope)
    : transport_(transport),
      clock_(clock),
      random_(random),
      endpoints_(std::move(endpoints)),
      client_id_(std::move(client_id)),
      scope_(std::move(scope)) {}

absl::StatusOr<DeviceAuthorization> DeviceFlow::Start(const absl::Notification* cancel) {
  HttpRequest request =
      FormPost(endpoints_.device_authorization, {{"client_id", client_id_}, {"scope", scope_}});
  request.timeout = kRequestTimeout;
  request.cancel = cancel;
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) return TransportError(response.status(), "could not start the login");
  if (response->status != 200) {
    std::string why =
        absl::StrCat("the server refused to start a login (", DescribeErrorReply(*response), ")");
    if (IsRetryableHttpStatus(response->status)) return absl::UnavailableError(why);
    return absl::FailedPreconditionError(why);
  }
  server::v1::DeviceAuthorizationResponse reply;
  if (absl::Status s = ParseJson(response->body, "the device authorization reply", &reply);
      !s.ok()) {
    return absl::UnknownError(s.message());
  }
  if (absl::Status valid = ValidateDeviceReply(reply, endpoints_.issuer); !valid.ok()) {
    return valid;
  }
  absl::Time now = clock_.Now();
  const absl::Duration valid = std::min(absl::Seconds(reply.expires_in()), kMaxExpiresIn);
  authorization_.device_code = reply.device_code();
  authorization_.user_code = reply.user_code();
  authorization_.verification_uri = reply.verification_uri();
  authorization_.verification_uri_complete = reply.verification_uri_complete();
  authorization_.expires_at = now + valid;
  authorization_.deadline = clock_.BootTime() + valid;
  authorization_.interval = reply.has_interval() ? std::clamp(absl::Seconds(reply.interval()),
                                                              absl::Seconds(1), kMaxInterval)
                                                 : kDefaultInterval;
  interval_ = authorization_.interval;
  transient_failures_ = 0;
  started_ = true;
  ScheduleIn(interval_);
  LogInfo("login: waiting for approval (code valid for %s, polling every %s)",
          absl::FormatDuration(valid), absl::FormatDuration(interval_));
  return authorization_;
}

void DeviceFlow::ScheduleIn(absl::Duration delay) {
  next_poll_at_ = std::min(clock_.BootTime() + delay, authorization_.deadline);
}

absl::Duration DeviceFlow::Backoff() const {
  // Jittered, but never faster than the server's interval.
  return FullJitter(ExponentialBackoff(transient_failures_ + 1, interval_, kMaxBackoff), random_,
                    interval_);
}

absl::StatusOr<std::optional<IssuedTokens>> DeviceFlow::Poll(const absl::Notification* cancel) {
  if (!started_) return absl::FailedPreconditionError("the login was not started");
  absl::Time mono = clock_.BootTime();
  if (mono >= authorization_.deadline) {
    return WithReason(absl::DeadlineExceededError(absl::StrCat(
                          "the login timed out: the code expired before it was approved",
                          last_transient_.empty()
                              ? ""
                              : absl::StrCat(" (the last poll failed: ", last_transient_, ")"))),
                      agent::v1::ERROR_REASON_LOGIN_EXPIRED);
  }
  HttpRequest request =
      FormPost(endpoints_.token, {{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                                  {"device_code", authorization_.device_code},
                                  {"client_id", client_id_}});
  request.timeout =
      std::max(absl::Seconds(1), std::min(kRequestTimeout, authorization_.deadline - mono));
  request.cancel = cancel;
  ++polls_;
  absl::StatusOr<HttpResponse> response = transport_.Send(request);
  if (!response.ok()) {
    if (OversizedReplyStatus(response.status()) == 200) {
      // No token reply is a mebibyte: a portal's or a proxy's page. The code is still good.
      return Transient(absl::StrCat("HTTP 200 with a reply too large to be a token reply (",
                                    response.status().message(), "); a captive portal or proxy?"));
    }
    absl::Status failed = TransportError(response.status(), "could not poll");
    // The helper missing is not a server's hiccup: the login cannot go on.
    if (absl::IsCancelled(failed) || absl::IsInternal(failed)) return failed;
    return Transient(response.status().message());
  }
  return Interpret(*response);
}

namespace {

// Whether a reply says it is a token reply (JSON or a form, by its type or its first byte), as a
// server's malformed one does and a captive portal's HTML page does not.
bool IsTokenReplyShaped(const HttpResponse& response) {
  std::string type = absl::AsciiStrToLower(response.Header("content-type"));
  if (absl::StrContains(type, "json") || absl::StrContains(type, "x-www-form-urlencoded")) {
    return true;
  }
  absl::string_view body = absl::StripLeadingAsciiWhitespace(response.body);
  return !body.empty() && (body[0] == '{' || (body[0] != '<' && absl::StrContains(body, '=')));
}

}  // namespace

std::optional<IssuedTokens> DeviceFlow::Transient(absl::string_view why) {
  ++transient_failures_;
  last_transient_ = std::string(why);
  ScheduleIn(Backoff());
  LogWarning("login: poll failed (%s); next try in %s", why,
             absl::FormatDuration(next_poll_at_ - clock_.BootTime()));
  return std::nullopt;
}

absl::StatusOr<std::optional<IssuedTokens>> DeviceFlow::Interpret(const HttpResponse& response) {
  if (response.status == 429 || response.status == 503) {
    // Retry-After may be an HTTP date: the wall clock, for that only.
    if (auto wait = ParseRetryAfter(response.Header("retry-after"), clock_.Now())) {
      ++transient_failures_;
      ScheduleIn(std::max(*wait, interval_));
      LogInfo("login: the server asked to retry after %s", absl::FormatDuration(*wait));
      return std::nullopt;
    }
    return Transient(absl::StrCat("HTTP ", response.status));
  }
  if (response.status != 200 && response.status != 400 && response.status != 401) {
    return Transient(absl::StrCat("HTTP ", response.status));
  }
  absl::StatusOr<TokenReply> reply =
      ParseTokenReply(response.Header("content-type"), response.body);
  if (!reply.ok()) {
    if (response.status == 200 && !IsTokenReplyShaped(response)) {
      return Transient(
          "HTTP 200 with a page that is not a token reply (neither JSON nor a form); a captive "
          "portal or proxy?");
    }
    if (response.status == 200) {
      return absl::UnknownError(
          absl::StrCat("the server's token reply is malformed: ", reply.status().message()));
    }
    return Transient(absl::StrCat("HTTP ", response.status, " with an unreadable body"));
  }
  if (reply->tokens) {
    if (response.status != 200) {
      return Transient(absl::StrCat("HTTP ", response.status, " with tokens"));
    }
    LogInfo("login: approved after %d polls", polls_);
    return std::move(reply->tokens);
  }
  if (response.status == 200) {
    return absl::UnknownError("the server's token reply is malformed: it has no access_token");
  }
  transient_failures_ = 0;
  last_transient_.clear();
  return InterpretError(*reply);
}

absl::StatusOr<std::optional<IssuedTokens>> DeviceFlow::InterpretError(const TokenReply& reply) {
  const std::string& error = reply.error;
  if (error == "authorization_pending") {
    ScheduleIn(interval_);
    return std::nullopt;
  }
  if (error == "slow_down") {
    interval_ = std::min(interval_ + kSlowDownStep, kMaxInterval);
    ScheduleIn(interval_);
    LogInfo("login: the server asked to slow down; polling every %s",
            absl::FormatDuration(interval_));
    return std::nullopt;
  }
  if (error == "access_denied") {
    return WithReason(absl::PermissionDeniedError("the login was denied in the browser"),
                      agent::v1::ERROR_REASON_LOGIN_DENIED);
  }
  if (error == "expired_token") {
    return WithReason(absl::DeadlineExceededError("the code expired before it was approved"),
                      agent::v1::ERROR_REASON_LOGIN_EXPIRED);
  }
  return absl::UnknownError(absl::StrCat("the server ended the login: ", reply.description));
}

absl::StatusOr<IssuedTokens> DeviceFlow::Run(absl::Notification& cancel) {
  while (true) {
    if (!clock_.SleepUntil(next_poll_at_, cancel)) {
      return absl::CancelledError("the login was cancelled");
    }
    absl::StatusOr<std::optional<IssuedTokens>> outcome = Poll(&cancel);
    if (!outcome.ok()) return outcome.status();
    if (outcome->has_value()) return **std::move(outcome);
  }
}

}  // namespace datagen
