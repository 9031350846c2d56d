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
#include "client/browser.h"
#include "client/doctor.h"
#include "client/render.h"
#include "client/settings.h"
#include "client/spinner.h"

namespace datagen::cli {
namespace {

// Everything the CLI prints goes through here: strings from servers (an email, a role, an error
// description) are shown whole, but no control character, escape sequence or bidirectional
// override reaches the terminal raw (EscapeControls). JSON stays valid JSON (\uXXXX escapes).
void Print(FILE* to, const std::string& text, Format format = Format::kText) {
  std::string safe =
      EscapeControls(text, format == Format::kJson ? Escaping::kJson : Escaping::kText);
  fwrite(safe.data(), 1, safe.size(), to);
}

// What to tell the user to do next after a call failed, or "": chosen here only, from the
// agent's reason (the x-datagen-reason trailer, in error_details()) and, without one, its code.
// Never from the message text.
std::string NextStep(const grpc::Status& status, bool agent_unreachable) {
  if (agent_unreachable) return "";
  switch (ReasonFromName(status.error_details())) {
    case agent::v1::ERROR_REASON_NOT_SIGNED_IN:
    case agent::v1::ERROR_REASON_SESSION_EXPIRED:
    case agent::v1::ERROR_REASON_CREDENTIALS_CORRUPT:
      return "run: datagen auth login";
    case agent::v1::ERROR_REASON_LOGIN_EXPIRED:
      return "run: datagen auth login (for a new code)";
    case agent::v1::ERROR_REASON_NOT_A_MEMBER:
      return "run: datagen auth org --list";
    case agent::v1::ERROR_REASON_SERVER_UNREACHABLE:
      return "check that the identity server (DATAGEN_API_URL) is reachable, then try again";
    default:
      break;
  }
  switch (status.error_code()) {  // an agent that gives no reason (older, or none fits)
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::DATA_LOSS:
      return "run: datagen auth login";
    case grpc::StatusCode::UNAVAILABLE:
      return "check that the identity server (DATAGEN_API_URL) is reachable, then try again";
    default:
      return "";
  }
}

int ExitCodeFor(const grpc::Status& status) {
  if (status.ok()) return kExitOk;
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return kExitSignedOut;
  return kExitError;
}

int ReportError(const grpc::Status& status, absl::string_view what, const Invocation& inv,
                const AgentClient& agent, const Output& io) {
  // No password of a proxy URL quoted by a library reaches the screen (text or JSON).
  std::string message = RedactUrlUserinfo(status.error_message());
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    message = absl::StrCat("this datagen-agent does not offer `datagen auth ", what, "` yet");
  }
  if (message.empty()) message = CodeName(status.error_code());
  Print(io.err, absl::StrCat("error: ", OneLine(message), "\n"));
  if (std::string next = NextStep(status, agent.agent_unreachable()); !next.empty()) {
    Print(io.err, next + "\n");
  }
  if (inv.format == Format::kJson) {
    Print(io.out, RenderJsonError(CodeName(status.error_code()), message), Format::kJson);
  }
  return ExitCodeFor(status);
}

// Ctrl-C (or SIGTERM) during login: erase the spinner's line and leave at once. Closing the
// connection detaches this caller from the agent's login, which goes on for the others (or is
// cancelled when there are none).
void OnInterrupt(int) {
  static constexpr char kErase[] = "\r\033[K";
  if (isatty(STDERR_FILENO)) {
    ssize_t unused = write(STDERR_FILENO, kErase, sizeof(kErase) - 1);
    (void)unused;
  }
  _exit(kExitInterrupted);
}

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
  signal(SIGINT, OnInterrupt);
  signal(SIGTERM, OnInterrupt);
  std::unique_ptr<Spinner> spinner;
  // The server this CLI is configured for is where the user means to sign in.
  grpc::Status status =
      agent.Login(env("DATAGEN_API_URL").value_or(""), [&](const agent::v1::LoginEvent& event) {
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
      });
  spinner.reset();
  if (!status.ok()) return ReportError(status, "login", inv, agent, io);
  return kExitOk;
}

// `status --watch`: a line per change until interrupted (exit 130). A status bar built on it must
// not lose its feed (issue 22, bug 5): when the agent goes away the watch follows the next one,
// and shows that agent's first event as SESSION_CHANGE_AGENT_REPLACED.
//  - stopped (SESSION_CHANGE_AGENT_STOPPING: `agent stop`, `restart`, SIGTERM): it waits for an
//    agent to answer again, starting none itself, so that a stop stays a stop;
//  - handing over to an upgraded binary (SESSION_CHANGE_AGENT_RESTARTING), or gone without a
//    word (a crash, kill -9): it starts one, as any command would (unless auto-start is off).
// An error the agent itself answers (e.g. too many watchers) ends the watch, exit 1.
int Watch(const Invocation& inv, AgentClient& agent, const Output& io) {
  signal(SIGINT, OnInterrupt);
  signal(SIGTERM, OnInterrupt);
  const bool may_start = agent.may_autostart();
  std::string instance;  // the agent_instance of the events so far
  agent::v1::SessionChange last = agent::v1::SESSION_CHANGE_UNSPECIFIED;
  absl::Duration pause = absl::Milliseconds(50);
  bool warned = false;
  while (true) {
    grpc::Status status = agent.Watch([&](const agent::v1::WatchEvent& event) {
      agent::v1::WatchEvent shown = event;
      if (!instance.empty() && event.agent_instance() != instance &&
          event.change() == agent::v1::SESSION_CHANGE_INITIAL) {
        shown.set_change(agent::v1::SESSION_CHANGE_AGENT_REPLACED);
      }
      instance = event.agent_instance();
      last = event.change();
      pause = absl::Milliseconds(50);
      warned = false;
      Print(io.out, Render(shown, inv.format), inv.format);
      if (fflush(io.out) != 0 || ferror(io.out)) _exit(128 + SIGPIPE);  // the reader is gone
    });
    if (!status.ok() && !agent.agent_unreachable() &&
        status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return ReportError(status, "status --watch", inv, agent, io);  // the agent's own answer
    }
    // An agent this watch started has exited: reap it, so that `agent stop` sees it gone.
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    // The agent went away, or none answers yet. Wait for the next one; start it unless the last
    // one said it was stopping.
    const bool stopped = last == agent::v1::SESSION_CHANGE_AGENT_STOPPING;
    agent.set_autostart(may_start && !stopped);
    if (!warned && last != agent::v1::SESSION_CHANGE_AGENT_RESTARTING) {
      Print(io.err,
            stopped ? "note: the agent stopped; waiting for one to start\n"
                    : absl::StrCat(
                          "warning: the agent went away (", OneLine(status.error_message()),
                          may_start ? "); starting it again\n" : "); waiting for one to start\n"));
      warned = true;
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Seconds(2));
  }
}

// `agent start|stop|restart|status`: the agent's life, as ssh-agent -k and gpgconf --kill and
// --launch give it. start starts one with this shell's settings unless one runs; stop sends the
// verified agent SIGTERM (it finishes what it must, removes its socket and exits) and waits for it
// to go; restart then starts one with this shell's settings (auto-start); status says which agent
// answers, or that none runs (it starts on demand).
std::string AgentText(const agent::v1::AgentInfo& info) {
  std::string text =
      absl::StrCat("agent: running\npid: ", info.pid(), "\nversion: ", OneLine(info.version()),
                   "\nbinary: ", OneLine(info.binary_path()), "\n");
  if (!info.configured_api_url().empty()) {
    absl::StrAppend(&text, "identity server: ", OneLine(info.configured_api_url()), "\n");
  }
  if (!info.credentials_path().empty()) {
    absl::StrAppend(&text, "credentials: ", OneLine(info.credentials_path()), "\n");
  }
  return text;
}

std::string AgentJson(const agent::v1::AgentInfo* info, absl::string_view did) {
  std::string out = absl::StrCat("{\"running\":", info != nullptr ? "true" : "false");
  if (!did.empty()) absl::StrAppend(&out, ",\"done\":\"", did, "\"");
  if (info != nullptr) absl::StrAppend(&out, ",\"agent\":", ToJson(*info, /*all_fields=*/true));
  return out + "}\n";
}

// Whether `pid` has exited but is not reaped yet (a zombie): an agent started by a long-running
// client (a watch) stays one until that client reaps it, and it has finished everything.
bool HasExited(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(file, stat)) return false;
  size_t paren = stat.rfind(')');  // "pid (comm) S ...": comm may hold spaces and parentheses
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

int AgentLife(const Invocation& inv, AgentClient& agent, const Output& io) {
  agent::v1::AgentInfo info;
  // Only an agent that was running is stopped (restart does not start one to stop it).
  grpc::Status found = agent.answered_at_start()
                           ? agent.GetAgentInfo(&info)
                           : grpc::Status(grpc::StatusCode::UNAVAILABLE, "not running");
  const bool running = found.ok();
  if (!running && agent.answered_at_start() && !agent.agent_unreachable()) {
    return ReportError(found, "agent", inv, agent, io);
  }
  const bool json = inv.format == Format::kJson;
  if (inv.command == Command::kAgentStart && !running) {
    grpc::Status started = agent.GetAgentInfo(&info);  // auto-starts it
    if (!started.ok()) return ReportError(started, "agent start", inv, agent, io);
    Print(io.out,
          json ? AgentJson(&info, "started") : absl::StrCat("agent: started\n", AgentText(info)),
          json ? Format::kJson : Format::kText);
    return kExitOk;
  }
  if (inv.command == Command::kAgentStatus || inv.command == Command::kAgentStart) {
    if (json) {
      Print(io.out, AgentJson(running ? &info : nullptr, ""), Format::kJson);
    } else {
      Print(io.out, running ? AgentText(info) : "agent: not running (it starts on demand)\n");
    }
    return kExitOk;
  }
  std::string stopped;
  if (running) {
    pid_t pid = static_cast<pid_t>(info.pid());
    if (pid <= 1 || kill(pid, SIGTERM) != 0) {
      return ReportError(grpc::Status(grpc::StatusCode::INTERNAL,
                                      absl::StrCat("cannot signal the agent (pid ", pid, ")")),
                         "agent", inv, agent, io);
    }
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {  // up to 20 s: it finishes what it must first
      (void)waitpid(pid, nullptr, WNOHANG);   // an agent this process started: reaped
      gone = kill(pid, 0) != 0 || HasExited(pid);
      if (!gone) usleep(100 * 1000);
    }
    if (!gone) {
      return ReportError(grpc::Status(grpc::StatusCode::INTERNAL,
                                      absl::StrCat("the agent (pid ", pid,
                                                   ") did not stop within 20 s; kill ", pid)),
                         "agent", inv, agent, io);
    }
    stopped = absl::StrCat("agent: stopped (pid ", pid, ")\n");
  } else {
    stopped = "agent: not running\n";
  }
  if (inv.command == Command::kAgentStop) {
    Print(io.out, json ? AgentJson(nullptr, running ? "stopped" : "") : stopped,
          json ? Format::kJson : Format::kText);
    return kExitOk;
  }
  // restart: a new agent, started by this client with this shell's environment.
  agent::v1::AgentInfo fresh;
  grpc::Status started = agent.GetAgentInfo(&fresh);
  if (!started.ok()) return ReportError(started, "agent restart", inv, agent, io);
  if (json) {
    Print(io.out, AgentJson(&fresh, "restarted"), Format::kJson);
  } else {
    Print(io.out, absl::StrCat(stopped, AgentText(fresh)));
  }
  return kExitOk;
}

// A call whose reply carries warnings and renders as a whole: status, org --list, org --use.
template <typename Reply, typename CallFn>
int Unary(const Invocation& inv, AgentClient& agent, const Output& io, absl::string_view what,
          CallFn call) {
  Reply reply;
  grpc::Status status = call(&reply);
  if (!status.ok()) return ReportError(status, what, inv, agent, io);
  if constexpr (!std::is_same_v<Reply, agent::v1::GetTokenResponse>) {
    for (const std::string& warning : reply.warnings()) {
      Print(io.err, absl::StrCat("warning: ", OneLine(RedactUrlUserinfo(warning)), "\n"));
    }
  }
  Print(io.out, Render(reply, inv.format), inv.format);
  return kExitOk;
}

// `status`: signed out is exit 4 with the pending revocations and a waiting login's code said
// (JSON: as fields beside the error), not only "not signed in".
int Status(const Invocation& inv, AgentClient& agent, const Output& io, const EnvLookup& env) {
  agent::v1::GetStatusResponse reply;
  grpc::Status status = agent.GetStatus(inv.verify, &reply);
  if (status.ok() && reply.signed_out()) {
    if (std::string differ =
            SettingsMismatch(env, {reply.configured_api_url(), reply.credentials_path()});
        !differ.empty()) {
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
    Print(io.err, "run: datagen auth login\n");
    if (inv.format == Format::kJson) Print(io.out, RenderSignedOut(reply, message), Format::kJson);
    return kExitSignedOut;
  }
  // A running agent keeps the settings it was started with (issue 22, bug 4): say so when this
  // shell's differ, and the one command that applies them.
  if (status.ok()) {
    if (std::string differ =
            SettingsMismatch(env, {reply.configured_api_url(), reply.credentials_path()});
        !differ.empty()) {
      reply.add_warnings(differ);
    }
  }
  return Unary<agent::v1::GetStatusResponse>(inv, agent, io, "status", [&](auto* out) {
    *out = std::move(reply);
    return status;
  });
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
      return Unary<agent::v1::GetTokenResponse>(inv, agent, io, "token",
                                                [&](auto* reply) { return agent.GetToken(reply); });
    case Command::kOrgList:
      return Unary<agent::v1::ListOrgsResponse>(inv, agent, io, "org --list", [&](auto* reply) {
        return agent.ListOrgs(inv.verify, reply);
      });
    case Command::kOrgUse:
      return Unary<agent::v1::UseOrgResponse>(inv, agent, io, "org --use", [&](auto* reply) {
        return agent.UseOrg(inv.org_slug, reply);
      });
    case Command::kDoctor: {
      agent::v1::DiagnoseResponse report = RunDoctor(agent, env);
      Print(io.out,
            inv.format == Format::kJson ? ToJson(report, /*all_fields=*/true) + "\n"
                                        : RenderDoctor(report),
            inv.format);
      return AllWell(report) ? kExitOk : kExitError;
    }
    case Command::kLogout: {
      agent::v1::LogoutResponse reply;
      grpc::Status status = agent.Logout(&reply);
      if (!status.ok()) return ReportError(status, "logout", inv, agent, io);
      if (reply.outcome() == agent::v1::LOGOUT_OUTCOME_NO_CREDENTIAL &&
          inv.format == Format::kText) {
        Print(io.err, "note: not signed in: there was no session to log out of\n");
      }
      if (reply.outcome() == agent::v1::LOGOUT_OUTCOME_LOGGED_OUT && !reply.revoked()) {
        Print(io.err,
              absl::StrCat("warning: the local credentials were deleted, but the token was NOT "
                           "revoked on the server: ",
                           reply.revocation_error(), "\n"));
      }
      Print(io.out, Render(reply, inv.format), inv.format);
      return kExitOk;
    }
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
