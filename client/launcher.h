// Starting datagen-agent for a client that found none answering: the one place that spawns the
// agent, waits for its socket and reads why it failed. AgentClient uses it through this
// interface (its launcher seam), so that autostart and the upgrade hand-over are tested with a
// fake launcher and an in-process agent (tests/agent_client_test), without an agent process.
//
// Threading: a Launcher is used by one AgentClient at a time, from its thread. It never owns
// the agent it starts: the agent outlives the command (its own session, no terminal).
#ifndef DATAGEN_CLIENT_LAUNCHER_H_
#define DATAGEN_CLIENT_LAUNCHER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace datagen::cli {

class Launcher {
 public:
  virtual ~Launcher() = default;

  // The agent binary this launcher starts ("" when none is found). An agent running from that
  // path but from another file (an upgrade replaced it) is asked to hand over.
  virtual std::string AgentBinary() = 0;

  // Starts an agent serving `socket_path`, its stderr appended to `log_path`, and returns once
  // `answers()` is true (something accepts connections there: this agent, or one another client
  // started at the same moment). Unavailable, for people, with the agent's last error line when
  // it exits first, or when nothing answers within the start timeout.
  virtual absl::Status Start(const std::string& socket_path, const std::string& log_path,
                             const std::function<bool()>& answers) = 0;
};

// The real one: the `datagen-agent` beside this binary, else on PATH (FindCompanionBinary),
// forked into its own session with stdin and stdout on /dev/null.
class ProcessLauncher final : public Launcher {
 public:
  static constexpr absl::Duration kStartTimeout = absl::Seconds(10);

  std::string AgentBinary() override;
  absl::Status Start(const std::string& socket_path, const std::string& log_path,
                     const std::function<bool()>& answers) override;
};

}  // namespace datagen::cli

#endif  // DATAGEN_CLIENT_LAUNCHER_H_
