// The prompt state file (docs/api.md "Prompt state file"): what a shell prompt needs to draw the
// session (signed in or not, expired, the active organization; never a token) as one line in the
// agent's runtime folder, so that a prompt reads it with shell builtins and starts no process.
//
//   datagen-prompt 1 <pid> <state> <org>
//   profile <name> <state> <org>
//
// The first line is the default profile's; one `profile` line follows for each other profile
// the agent has loaded, by name. `state` is signed_in, signed_out or expired; `org` is a slug
// ([A-Za-z0-9._-], possibly empty); `name` is a profile name (text.h). <pid> is the agent's, so
// that a reader can tell a file left by an agent killed with -9 (`kill -0 <pid>` fails). A user
// who never names a profile has exactly the one line.
//
// Beside it, each other profile also has a file of its own, "prompt.<name>"
// (ProfilePromptStateFile), holding that profile's state as one first line of the same format
// (`datagen-prompt 1 <pid> <state> <org>`): a prompt that shows one profile reads one short
// line, at the cost of the default profile's, however many profiles there are. Every file is
// 0600, replaced atomically (WriteFileAtomically) when its content changes, and removed when
// the agent stops cleanly.
//
// Thread-safety: one PromptFile watches every profile's session; OnSessionEvent is called under
// that session's lock, and the file's own mutex orders the writes of different profiles. Remove
// must not race with it (the Agent calls it after removing the watchers). A write that fails is
// logged (once per kind of failure) and retried at the next change; it never fails a call.
#ifndef DATAGEN_AGENT_SESSION_PROMPT_FILE_H_
#define DATAGEN_AGENT_SESSION_PROMPT_FILE_H_

#include <sys/types.h>

#include <map>
#include <mutex>
#include <string>

#include "agent/session/watch_hub.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

class PromptFile : public WatchHub::Watcher {
 public:
  // `path`: PromptStateFile (agent/common/paths.h); the profiles' files are beside it.
  PromptFile(std::string path, pid_t pid) : path_(std::move(path)), pid_(pid) {}

  // Writes the file when its line changes (a refresh that changes nothing the prompt shows
  // writes nothing).
  void OnSessionEvent(const agent::v1::WatchEvent& event) override;
  // Removes the files (the agent is stopping cleanly).
  void Remove();

  // The default profile's line for `session`, newline included.
  static std::string Line(pid_t pid, const agent::v1::SessionSnapshot& session);
  // Another profile's line, newline included.
  static std::string ProfileLine(const std::string& profile,
                                 const agent::v1::SessionSnapshot& session);

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const pid_t pid_;
  std::mutex mu_;
  std::map<std::string, std::string> others_;  // guarded by mu_: each other profile's line
  std::string default_line_;                   // guarded by mu_
  // Writes `content` to `path` unless `*written` already holds it; a failure is logged.
  void WriteLocked(const std::string& path, std::string content, std::string* written);

  std::string written_;                                // guarded by mu_: the content last written
  std::map<std::string, std::string> written_others_;  // guarded by mu_: each profile's file
  std::string last_error_;                             // guarded by mu_: the last failure logged
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_PROMPT_FILE_H_
