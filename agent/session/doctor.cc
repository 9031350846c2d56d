#include "agent/session/doctor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/common/diagnostic_check.h"
#include "agent/common/json.h"
#include "agent/common/secret_memory.h"
#include "agent/common/text.h"
#include "agent/common/version.h"
#include "agent/http/url.h"
#include "agent/oauth/issuers.h"
#include "agent/oauth/token_reply.h"
#include "agent/store/atomic_file.h"
#include "agent/store/credential_store.h"

namespace datagen {
namespace {

// An HTTP date (RFC 9110 5.6.7, IMF-fixdate), or nullopt.
std::optional<absl::Time> ParseHttpDate(absl::string_view text) {
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", text, absl::UTCTimeZone(), &when, &error)) {
    return std::nullopt;
  }
  return when;
}

std::string Mode(mode_t mode) { return absl::StrFormat("%04o", mode & 07777); }

}  // namespace

agent::v1::DiagnoseResponse Doctor::Run() {
  agent::v1::DiagnoseResponse reply;
  reply.set_agent_version(kVersion);
  reply.set_configured_api_url(issuer_);
  CheckServer(&reply);
  *reply.add_checks() = CheckCredentials();
  *reply.add_checks() = CheckRevocations();
  *reply.add_checks() = CheckProxy();
  return reply;
}

void Doctor::CheckServer(agent::v1::DiagnoseResponse* reply) {
  const std::string fix_url = "check DATAGEN_API_URL: it must be the identity server's issuer URL";
  absl::StatusOr<HttpResponse> response;
  std::string url;
  absl::Time before = clock_.Now();
  absl::Time started = clock_.Monotonic();
  for (const char* well_known :
       {"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}) {
    HttpRequest request;
    request.url = JoinUrl(issuer_, well_known);
    request.headers = {{"Accept", "application/json"}};
    request.timeout = absl::Seconds(10);
    url = request.url;
    response = transport_.Send(request);
    if (!response.ok() || response->status != 404) break;
  }
  absl::Duration took = clock_.Monotonic() - started;
  absl::Time after = clock_.Now();
  if (!response.ok()) {
    *reply->add_checks() =
        MakeCheck("discovery", agent::v1::VERDICT_FAIL,
                  absl::StrCat("cannot reach ", issuer_, ": ", response.status().message()),
                  absl::StrCat(fix_url,
                               "; check the network, and HTTPS_PROXY / NO_PROXY if a proxy is "
                               "needed"));
    return;
  }
  if (response->status == 404) {
    *reply->add_checks() = CheckDefaultPaths(fix_url);
  } else if (response->status != 200) {
    *reply->add_checks() =
        MakeCheck("discovery", agent::v1::VERDICT_FAIL,
                  absl::StrCat(url, " answered HTTP ", response->status),
                  "the identity server is in trouble; try again later, or check DATAGEN_API_URL");
  } else {
    *reply->add_checks() =
        MakeCheck("discovery", agent::v1::VERDICT_OK,
                  absl::StrCat(url, " answered in ", absl::ToInt64Milliseconds(took), " ms"));
  }
  *reply->add_checks() = CheckClock(*response, before, after);
}

agent::v1::DiagnosticCheck Doctor::CheckDefaultPaths(const std::string& fix_url) {
  // No discovery document: the agent uses the default paths (as login does), and they work on
  // many servers. Ask the default token endpoint something harmless that any OAuth server
  // refuses with an OAuth error (RFC 6749 section 5.2): a refresh grant with no token. Nothing
  // is issued, and nothing of the session is sent.
  HttpRequest probe = FormPost(JoinUrl(issuer_, "/oauth/token"), {{"grant_type", "refresh_token"}});
  probe.timeout = absl::Seconds(10);
  absl::StatusOr<HttpResponse> answer = transport_.Send(probe);
  absl::StatusOr<TokenReply> parsed =
      answer.ok() ? ParseTokenReply(answer->Header("content-type"), answer->body)
                  : absl::StatusOr<TokenReply>(answer.status());
  if (parsed.ok() && !parsed->tokens && !parsed->error.empty()) {
    return MakeCheck("discovery", agent::v1::VERDICT_OK,
                     absl::StrCat("no discovery document (HTTP 404): the default endpoints are "
                                  "used, and ",
                                  probe.url, " answers as an OAuth token endpoint"));
  }
  return MakeCheck(
      "discovery", agent::v1::VERDICT_FAIL,
      absl::StrCat(
          issuer_, " has no discovery document (HTTP 404), and its default token endpoint ",
          probe.url, " ",
          answer.ok() ? absl::StrCat("answered HTTP ", answer->status, ", not as an OAuth server")
                      : absl::StrCat("cannot be reached: ", answer.status().message())),
      fix_url);
}

agent::v1::DiagnosticCheck Doctor::CheckClock(const HttpResponse& response, absl::Time before,
                                              absl::Time after) {
  std::optional<absl::Time> server_time = ParseHttpDate(response.Header("date"));
  if (!server_time) {
    return MakeCheck("clock", agent::v1::VERDICT_OK,
                     "not measured: the server sent no Date header");
  }
  // The server stamped its Date between `before` and `after`, to the second.
  absl::Duration skew = *server_time - (before + (after - before) / 2);
  std::string how =
      absl::StrCat(absl::FormatDuration(absl::Trunc(absl::AbsDuration(skew), absl::Seconds(1))),
                   skew > absl::ZeroDuration() ? " ahead of" : " behind");
  if (absl::AbsDuration(skew) > kMaxClockSkew + absl::Seconds(1)) {
    return MakeCheck(
        "clock", agent::v1::VERDICT_WARN,
        absl::StrCat("the server's clock is ", how, " this machine's"),
        "set this machine's clock (timedatectl set-ntp true); logins and token expiry read it");
  }
  return MakeCheck(
      "clock", agent::v1::VERDICT_OK,
      absl::StrCat("within ", absl::FormatDuration(kMaxClockSkew), " of the server's"));
}

agent::v1::DiagnosticCheck Doctor::CheckCredentials() {
  const std::string& path = credentials_path_;
  std::string dir = Dirname(path);
  struct stat st;
  if (lstat(dir.c_str(), &st) == 0 && (st.st_uid != uid_ || (st.st_mode & 077) != 0)) {
    return MakeCheck("credentials", agent::v1::VERDICT_FAIL,
                     absl::StrCat("the folder ", dir, " is owned by uid ", st.st_uid, " with mode ",
                                  Mode(st.st_mode)),
                     absl::StrCat("chmod 700 ", dir, " (it must be yours alone)"));
  }
  if (lstat(path.c_str(), &st) != 0) {
    return MakeCheck("credentials", agent::v1::VERDICT_OK,
                     absl::StrCat("no credentials file at ", path, " (signed out)"));
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != uid_) {
    return MakeCheck(
        "credentials", agent::v1::VERDICT_FAIL,
        absl::StrCat(path, " is ", S_ISREG(st.st_mode) ? "a file" : "not a plain file",
                     " owned by uid ", st.st_uid),
        absl::StrCat("move it away (mv ", path, " ", path, ".bak), then sign in again"));
  }
  if ((st.st_mode & 077) != 0) {
    return MakeCheck("credentials", agent::v1::VERDICT_FAIL,
                     absl::StrCat(path, " has mode ", Mode(st.st_mode), ": others can read it"),
                     absl::StrCat("chmod 600 ", path));
  }
  // The one private-file reader (it would tighten a loose mode, but that was refused above: the
  // doctor looks, it repairs nothing).
  std::vector<std::string> ignored;
  absl::StatusOr<std::string> content = ReadPrivateFile(
      path, "the credentials file", uid_, FileCredentialStore::kMaxFileBytes, &ignored);
  agent::v1::Credentials credentials;
  absl::Status valid = content.ok() ? ParseJson(*content, "it", &credentials) : content.status();
  if (content.ok()) WipeString(&*content);
  if (valid.ok()) valid = ValidateCredentials(credentials);
  std::string email = credentials.email(), api_url = credentials.api_url();
  WipeCredentials(&credentials);
  if (!valid.ok()) {
    return MakeSignInCheck("credentials", agent::v1::VERDICT_FAIL,
                           absl::StrCat(path, " is not valid: ", valid.message()),
                           "sign in again; the agent keeps the bad file aside");
  }
  if (api_url.empty() && Issuers::Canonical(issuer_) != kDefaultIssuer) {
    return MakeSignInCheck(
        "credentials", agent::v1::VERDICT_FAIL,
        absl::StrCat("signed in as ", email, " at an unknown server: ", kUnknownIssuerReason),
        "sign in again");
  }
  std::string issuer = api_url.empty() ? kDefaultIssuer : api_url;
  if (Issuers::Canonical(issuer) != Issuers::Canonical(issuer_)) {
    return MakeSignInCheck("credentials", agent::v1::VERDICT_WARN,
                           absl::StrCat("signed in as ", email, " at ", issuer,
                                        ", but the agent is configured for ", issuer_),
                           "sign in at the configured server");
  }
  return MakeCheck(
      "credentials", agent::v1::VERDICT_OK,
      absl::StrCat("signed in as ", email, " at ", issuer, "; ", path, " mode ", Mode(st.st_mode)));
}

agent::v1::DiagnosticCheck Doctor::CheckRevocations() {
  revocations_.Reload();
  int pending = revocations_.size();
  if (pending == 0) return MakeCheck("revocations", agent::v1::VERDICT_OK, "none pending");
  return MakeCheck("revocations", agent::v1::VERDICT_WARN,
                   absl::StrCat(pending, " token(s) of ended sessions await revocation"),
                   "the agent retries them; if this stays, check that the server is reachable");
}

agent::v1::DiagnosticCheck Doctor::CheckProxy() {
  std::vector<std::string> settings;
  for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                           "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "CURL_CA_BUNDLE"}) {
    if (std::optional<std::string> value = env_(name); value && !value->empty()) {
      settings.push_back(absl::StrCat(name, "=", RedactUrlUserinfo(*value)));
    }
  }
  return MakeCheck("proxy", agent::v1::VERDICT_OK,
                   settings.empty() ? "no proxy or CA settings in the agent's environment"
                                    : absl::StrCat("in the agent's environment: ",
                                                   absl::StrJoin(settings, " ")));
}

}  // namespace datagen
