#include "client/commands.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/common/json.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"
#include "client/advice.h"
#include "client/agent_command.h"
#include "client/browser.h"
#include "client/command_output.h"
#include "client/doctor.h"
#include "client/exec_command.h"
#include "client/render.h"
#include "client/settings.h"
#include "client/spinner.h"
#include "client/watch_command.h"

namespace datagen::cli {
namespace {

// What a person must know before typing the code (RFC 8628 section 5.4, device-code phishing):
// where the page is when it is not the identity server itself, and which machine asked. On
// stderr, so that the documented lines on stdout stay as they are; JSON has the hosts instead.
void WarnAboutThePage(const agent::v1::DeviceCode& code, const Output& io) {
  if (!code.verification_host().empty() && code.verification_host() != code.issuer_host()) {
    Print(io.err,
          absl::StrCat("note: the verification page is on ", OneLine(code.verification_host()),
                       ", not on the identity server ", OneLine(code.issuer_host()), "\n"));
  }
  char host[256] = "";
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') strcpy(host, "this machine");
  Print(io.err, absl::StrCat("note: this code signs in datagen on ", OneLine(host),
                             "; confirm it only if you started this login there\n"));
}

int Login(const Invocation& inv, AgentClient& agent, const Output& io, const EnvLookup& env) {
  ExitAtOnceOnInterrupt();
  std::unique_ptr<Spinner> spinner;
  // --api-url, else this shell's DATAGEN_API_URL, is where the user means to sign in; neither:
  // the profile's own issuer (the agent knows it), else the agent's.
  grpc::Status status = agent.Login(
      inv.api_url,
      [&](const agent::v1::LoginEvent& event) {
        if (event.has_device_code()) {
          const agent::v1::DeviceCode& code = event.device_code();
          Print(io.out, Render(code, inv.format), inv.format);
          if (inv.format == Format::kText) WarnAboutThePage(code, io);
          const std::string& url = code.verification_uri_complete().empty()
                                       ? code.verification_uri()
                                       : code.verification_uri_complete();
          if (std::string browser = ChooseBrowser(inv.no_browser, env); !browser.empty()) {
            if (absl::Status opened = OpenBrowser(browser, url); opened.ok()) {
              if (inv.format == Format::kText) Print(io.out, absl::StrCat("Opening: ", url, "\n"));
            } else {
              Print(io.err, absl::StrCat("warning: could not open a browser (", opened.message(),
                                         "); open the URL above yourself\n"));
            }
          }
          fflush(io.out);
          if (isatty(fileno(io.err))) {
            spinner = std::make_unique<Spinner>(fileno(io.err),
                                                absl::FromUnixSeconds(code.expires_at().seconds()));
          }
        } else if (event.has_result()) {
          spinner.reset();
          Print(io.out, Render(event.result(), inv.format), inv.format);
        }
      },
      inv.profile);
  spinner.reset();
  if (!status.ok()) return ReportError(status, "login", inv, io);
  return kExitOk;
}

// A call whose reply carries warnings and renders as a whole: status, org --list, org --use.
template <typename Reply, typename CallFn>
int Unary(const Invocation& inv, AgentClient& agent, const Output& io, absl::string_view what,
          CallFn call) {
  Reply reply;
  grpc::Status status = call(&reply);
  if (!status.ok()) return ReportError(status, what, inv, io);
  if constexpr (!std::is_same_v<Reply, agent::v1::GetTokenResponse> &&
                !std::is_same_v<Reply, agent::v1::ListTokenHandoutsResponse>) {
    // The CLI's output, text and JSON, shows each warning as a line with its advice (the
    // documented shape: `warnings`, no `warning_details`).
    std::vector<std::string> lines = WarningLines(reply.warnings(), reply.warning_details());
    reply.clear_warnings();
    reply.clear_warning_details();
    for (std::string& line : lines) {
      Print(io.err, absl::StrCat("warning: ", OneLine(RedactUrlUserinfo(line)), "\n"));
      reply.add_warnings(std::move(line));
    }
  }
  Print(io.out, Render(reply, inv.format), inv.format);
  return kExitOk;
}

// The profile and organization the invocation names (flags, else the environment).
AgentClient::Scope ScopeOf(const Invocation& inv) {
  AgentClient::Scope scope;
  scope.profile = inv.profile;
  scope.org = inv.org;
  scope.org_source = inv.org_from == Invocation::OrgFrom::kFlag ? agent::v1::ORG_SOURCE_FLAG
                     : inv.org_from == Invocation::OrgFrom::kEnv
                         ? agent::v1::ORG_SOURCE_ENV
                         : agent::v1::ORG_SOURCE_UNSPECIFIED;
  return scope;
}

// The running agent's settings against this shell's (issue 22): about the default profile only,
// which is the one that follows the agent's configured issuer; another profile keeps its own.
std::string SettingsDiffer(const Invocation& inv, const EnvLookup& env,
                           const agent::v1::GetStatusResponse& reply) {
  if (!inv.profile.empty() && inv.profile != kDefaultProfile) return "";
  return SettingsMismatch(env, {reply.configured_api_url(), reply.credentials_path()});
}

// `status --all`: every profile, one line (JSON: one object) each.
int StatusAll(const Invocation& inv, AgentClient& agent, const Output& io) {
  agent::v1::ListProfilesResponse reply;
  grpc::Status status = agent.ListProfiles(&reply);
  if (!status.ok()) return ReportError(status, "status --all", inv, io);
  Print(io.out, Render(reply, inv.format), inv.format);
  return kExitOk;
}

// `status`: signed out is exit 4 with the pending revocations and a waiting login's code said
// (JSON: as fields beside the error), not only "not signed in".
int Status(const Invocation& inv, AgentClient& agent, const Output& io, const EnvLookup& env) {
  if (inv.all_profiles) return StatusAll(inv, agent, io);
  agent::v1::GetStatusResponse reply;
  grpc::Status status = agent.GetStatus(inv.verify, &reply, ScopeOf(inv));
  if (status.ok() && reply.signed_out()) {
    if (std::string differ = SettingsDiffer(inv, env, reply); !differ.empty()) {
      Print(io.err, absl::StrCat("warning: ", differ, "\n"));
    }
    std::string message = "not signed in";
    if (reply.revocations_pending() > 0) {
      absl::StrAppend(&message, " (", reply.revocations_pending(),
                      " token(s) of an ended session still await revocation at the server; the "
                      "agent keeps retrying)");
    }
    Print(io.err, absl::StrCat("error: ", message, "\n"));
    if (reply.has_pending_login()) {
      const agent::v1::DeviceCode& code = reply.pending_login();
      Print(io.err, absl::StrCat("a login waits for approval: code ", OneLine(code.user_code()),
                                 " at ", OneLine(code.verification_uri()), "\n"));
    }
    Print(io.err, absl::StrCat("run: ", LoginCommand(inv.profile), "\n"));
    if (inv.format == Format::kJson) Print(io.out, RenderSignedOut(reply, message), Format::kJson);
    return kExitSignedOut;
  }
  // A running agent keeps the settings it was started with (issue 22, bug 4): say so when this
  // shell's differ, and the one command that applies them.
  if (status.ok()) {
    if (std::string differ = SettingsDiffer(inv, env, reply); !differ.empty()) {
      reply.add_warnings(differ);
      agent::v1::Warning* detail = reply.add_warning_details();
      detail->set_kind(agent::v1::WARNING_KIND_SETTINGS_DIFFER);
      detail->set_message(differ);
    }
  }
  return Unary<agent::v1::GetStatusResponse>(inv, agent, io, "status", [&](auto* out) {
    *out = std::move(reply);
    return status;
  });
}

// `logout`: one profile, or every one with --all (a reply, JSON: an object, per profile).
int Logout(const Invocation& inv, AgentClient& agent, const Output& io) {
  std::vector<std::string> profiles = {inv.profile};
  if (inv.all_profiles) {
    agent::v1::ListProfilesResponse all;
    grpc::Status listed = agent.ListProfiles(&all);
    if (!listed.ok()) return ReportError(listed, "logout --all", inv, io);
    profiles.clear();
    for (const auto& p : all.profiles()) profiles.push_back(p.profile());
  }
  int code = kExitOk;
  for (const std::string& profile : profiles) {
    AgentClient::Scope scope;
    scope.profile = profile;
    agent::v1::LogoutResponse reply;
    grpc::Status status = agent.Logout(&reply, scope);
    if (!status.ok()) {
      code = ReportError(status, "logout", inv, io);
      continue;
    }
    if (reply.outcome() == agent::v1::LOGOUT_OUTCOME_NO_CREDENTIAL && inv.format == Format::kText &&
        !inv.all_profiles) {
      Print(io.err, "note: not signed in: there was no session to log out of\n");
    }
    if (reply.outcome() == agent::v1::LOGOUT_OUTCOME_LOGGED_OUT && !reply.revoked()) {
      Print(io.err,
            absl::StrCat("warning: the local credentials were deleted, but the token was NOT "
                         "revoked on the server: ",
                         reply.revocation_error(), "\n"));
    }
    std::string shown = Render(reply, inv.format);
    // With --all every profile is named, the default one too (its reply alone omits it).
    if (inv.all_profiles && inv.format == Format::kText &&
        ProfileOrDefault(reply.profile()) == kDefaultProfile) {
      shown = absl::StrCat("profile: ", kDefaultProfile, "\n", shown);
    }
    Print(io.out, shown, inv.format);
  }
  return code;
}

// `token`: the bare token (text) or the whole reply (JSON); a warning when the server's tokens
// live shorter than --min-valid asked.
int Token(const Invocation& inv, AgentClient& agent, const Output& io) {
  int code = Unary<agent::v1::GetTokenResponse>(inv, agent, io, "token", [&](auto* reply) {
    grpc::Status status = agent.GetToken(reply, ScopeOf(inv), inv.min_valid);
    if (status.ok() && reply->min_valid_unmet()) {
      Print(io.err, MinValidWarning(*reply, inv.min_valid));
    }
    return status;
  });
  return code;
}

// `org --use`: the profile's stored organization; a DATAGEN_ORG of this shell still wins here.
int UseOrg(const Invocation& inv, AgentClient& agent, const Output& io, const EnvLookup& env) {
  int code = Unary<agent::v1::UseOrgResponse>(inv, agent, io, "org --use", [&](auto* reply) {
    return agent.UseOrg(inv.org_slug, reply, ScopeOf(inv));
  });
  std::optional<std::string> here = env("DATAGEN_ORG");
  if (code == kExitOk && here && *here != inv.org_slug) {
    Print(io.err, absl::StrCat("note: DATAGEN_ORG=", OneLine(*here),
                               " is set in this shell: its commands still use ", OneLine(*here),
                               "; other shells and programs use ", inv.org_slug, "\n"));
  }
  return code;
}

}  // namespace

int RunCommand(const Invocation& inv, AgentClient& agent, const Output& io, const EnvLookup& env) {
  switch (inv.command) {
    case Command::kHelp:
    case Command::kVersion:
    case Command::kCompletion:
      Print(io.out, inv.help_text);
      return kExitOk;
    case Command::kLogin:
      return Login(inv, agent, io, env);
    case Command::kAgentStart:
    case Command::kAgentStop:
    case Command::kAgentRestart:
    case Command::kAgentStatus:
      return AgentLife(inv, agent, io);
    case Command::kStatus:
      return Status(inv, agent, io, env);
    case Command::kWatch:
      return Watch(inv, agent, io);
    case Command::kToken:
      return Token(inv, agent, io);
    case Command::kExec:
      return RunExec(inv, agent, io, ScopeOf(inv));
    case Command::kAudit:
      return Unary<agent::v1::ListTokenHandoutsResponse>(
          inv, agent, io, "audit", [&](auto* reply) { return agent.ListTokenHandouts(reply); });
    case Command::kOrgList:
      return Unary<agent::v1::ListOrgsResponse>(inv, agent, io, "org --list", [&](auto* reply) {
        return agent.ListOrgs(inv.verify, reply, ScopeOf(inv));
      });
    case Command::kOrgUse:
      return UseOrg(inv, agent, io, env);
    case Command::kDoctor: {
      agent::v1::DiagnoseResponse report = RunDoctor(agent, env, inv.profile);
      Print(io.out,
            inv.format == Format::kJson ? ToJson(report, /*all_fields=*/true) + "\n"
                                        : RenderDoctor(report),
            inv.format);
      return AllWell(report) ? kExitOk : kExitError;
    }
    case Command::kLogout:
      return Logout(inv, agent, io);
  }
  return kExitError;
}

int ReportSetupError(const UsageError& error, const Output& io) {
  Print(io.err, absl::StrCat("error: ", error.message, "\n"));
  if (error.format == Format::kJson) {
    Print(io.out, RenderJsonError("failed_precondition", error.message), Format::kJson);
  }
  return kExitError;
}

int ReportUsageError(const UsageError& error, const Output& io) {
  Print(io.err, absl::StrCat("error: ", error.message, "\n", error.usage, "\n"));
  if (error.format == Format::kJson) {
    Print(io.out, RenderJsonError("usage", error.message), Format::kJson);
  }
  return kExitUsage;
}

}  // namespace datagen::cli
