#include "client/watch_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/common/text.h"
#include "client/render.h"

namespace datagen::cli {

// `status --watch`: a line per change until interrupted (exit 130). A status bar built on it must
// not lose its feed (issue 22, bug 5): when the agent goes away the watch follows the next one,
// and shows that agent's first event as SESSION_CHANGE_AGENT_REPLACED.
//  - stopped (SESSION_CHANGE_AGENT_STOPPING: `agent stop`, `restart`, SIGTERM): it waits for an
//    agent to answer again, starting none itself, so that a stop stays a stop;
//  - handing over to an upgraded binary (SESSION_CHANGE_AGENT_RESTARTING), or gone without a
//    word (a crash, kill -9): it starts one, as any command would (unless auto-start is off).
// An error the agent itself answers (e.g. too many watchers) ends the watch, exit 1.
int Watch(const Invocation& inv, AgentClient& agent, const Output& io) {
  ExitAtOnceOnInterrupt();
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
    if (!status.ok() && !AgentUnreachable(status) &&
        status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return ReportError(status, "status --watch", inv, io);  // the agent's own answer
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

}  // namespace datagen::cli
