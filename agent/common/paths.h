// Where the agent's files live (docs/cli.md "Files and environment"), and the checks that make a
// folder safe to keep a socket or credentials in.
//
// Shared by the agent and the CLI: the socket's location is part of the API's contract.
#ifndef DATAGEN_AGENT_COMMON_PATHS_H_
#define DATAGEN_AGENT_COMMON_PATHS_H_

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace datagen {

// Reads one environment variable; nullopt when unset. Empty values count as unset.
using EnvLookup = std::function<std::optional<std::string>(absl::string_view name)>;

// The process environment (getenv).
EnvLookup ProcessEnv();

// Unix socket paths longer than this do not fit in sockaddr_un.
inline constexpr size_t kMaxSocketPathLength = 107;

// $XDG_CONFIG_HOME/datagen/credentials.json, else $HOME/.config/datagen/credentials.json.
// FailedPrecondition when neither variable is set or the path is relative.
absl::StatusOr<std::string> CredentialsPath(const EnvLookup& env);

// $DATAGEN_AGENT_SOCKET, else $XDG_RUNTIME_DIR/datagen/agent.sock, else
// /tmp/datagen-<uid>/agent.sock. InvalidArgument when relative or too long for a Unix socket.
absl::StatusOr<std::string> SocketPath(const EnvLookup& env, uid_t uid);

// The folder part of `path` ("/a/b/c" -> "/a/b"; "/c" -> "/").
std::string Dirname(absl::string_view path);

// Every other file, named here only (as LevelDB's db/filename.h names a database's files), from
// the two roots above: the socket (its folder is the runtime folder) and the credentials file
// (its folder is the config folder). Pure: nothing is created or checked.
//
// Beside the socket:
std::string SocketLockFile(absl::string_view socket);  // "<socket>.lock": held for the agent's life
std::string AgentLogFile(absl::string_view socket);  // "agent.log": an auto-started agent's stderr
std::string PromptStateFile(absl::string_view socket);  // "prompt": the shell prompt's one line
// "prompt.<profile>": the line of one other profile (a valid name), alone, for a prompt that
// shows that profile. Takes the socket, or the prompt file (any file in the runtime folder).
std::string ProfilePromptStateFile(absl::string_view socket, absl::string_view profile);
// Beside the credentials (each takes the credentials file, or any file in its folder):
std::string CredentialsLockFile(absl::string_view credentials);     // "credentials.lock"
std::string PendingRevocationsFile(absl::string_view credentials);  // "pending-revocations.json"
std::string PendingRevocationsLockFile(absl::string_view credentials);  // "pending-revocations.lock
// Profiles (text.h IsValidProfileName): the default profile is the credentials file itself; each
// other profile is a folder of its own under "profiles/" beside it, holding the same files
// (its credentials.json, lock and pending revocations: the functions above, given its file).
std::string ProfilesFolder(absl::string_view credentials);  // "profiles"
// The credentials file of `profile` (a valid name): `credentials` for the default profile,
// "profiles/<profile>/credentials.json" beside it for any other.
std::string ProfileCredentialsFile(absl::string_view credentials, absl::string_view profile);

// What to do about a folder that is open to other users.
enum class LooseFolder {
  kRefuse,   // an error, as ssh and tmux do for their socket folders
  kTighten,  // chmod it to 0700 and report that in *repaired
};

// Makes sure `dir` is a real folder (not a symlink) owned by `uid` and closed to others,
// creating it (and missing parents, 0700) when absent. FailedPrecondition, with a message that
// names the folder and what is wrong, when it is owned by another uid, is not a folder, or is open
// to others under kRefuse. Under kTighten a loose folder is chmod'ed to 0700 and *repaired (when
// given) is set to a sentence saying so.
absl::Status EnsurePrivateDir(const std::string& dir, uid_t uid, LooseFolder loose,
                              std::string* repaired = nullptr);

// What every client must check before it sends a byte to an agent (docs/agent.md "Security"): the
// socket's folder is a real folder owned by `uid` and not writable by group or others (else
// another user may have created it first, as anyone can under /tmp, and listen in it), and the
// socket, when present, is a socket owned by `uid`. OK when the folder does not exist yet (an
// auto-start creates it private). FailedPrecondition otherwise, with a message that names the
// path, its owner and mode, and what to do.
absl::Status CheckAgentSocket(const std::string& socket_path, uid_t uid);

// Connects to the agent at `socket_path` as a client must: CheckAgentSocket first, then the
// connect, then the peer's uid (SO_PEERCRED) must be `uid`. Returns the connected socket
// (SOCK_CLOEXEC, blocking), owned by the caller. FailedPrecondition when a check fails (nothing
// was sent); Unavailable when nothing accepts connections there.
absl::StatusOr<int> ConnectToAgent(const std::string& socket_path, uid_t uid);

}  // namespace datagen

#endif  // DATAGEN_AGENT_COMMON_PATHS_H_
