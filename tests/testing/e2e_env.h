// One end-to-end world for a test: a short folder under /tmp with empty HOME, XDG_CONFIG_HOME
// and XDG_RUNTIME_DIR, the project's fake identity server on a loopback port, and the real
// `datagen` and `datagen-agent` binaries. On destruction it stops the agent and the server,
// checks that no token it minted appears in any output or log, and removes the folder.
#ifndef DATAGEN_TESTS_TESTING_E2E_ENV_H_
#define DATAGEN_TESTS_TESTING_E2E_ENV_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/testing/subprocess.h"

namespace datagen::testing {

class E2eEnv {
 public:
  struct Options {
    // Passed to fake_server --discovery; "" starts no server (DATAGEN_API_URL then points at a
    // closed loopback port).
    std::string discovery = "oidc";
    // The fake server's users (its --users file, JSON); "" for its built-in ones.
    std::string users_json;
  };
  E2eEnv() : E2eEnv(Options()) {}
  explicit E2eEnv(Options options);
  ~E2eEnv();

  // Runs the real `datagen` with `args` in this world's environment plus `extra_env`.
  RunResult Datagen(const std::vector<std::string>& args,
                    const std::vector<std::string>& extra_env = {});
  // Runs any command in this world's environment.
  RunResult RunCommand(const std::vector<std::string>& argv,
                       const std::vector<std::string>& extra_env = {});

  // The environment every command gets ("NAME=value"), with `overrides` replacing or adding
  // variables.
  std::vector<std::string> Env(const std::vector<std::string>& overrides = {}) const;

  // Starts `datagen` with `args` in the background; its stdout and stderr go to
  // <dir>/<name>.out and .err (see Output).
  Child StartDatagen(const std::vector<std::string>& args, const std::string& name,
                     const std::vector<std::string>& extra_env = {});
  // What a background command wrote so far (stdout + stderr); added to the transcript.
  std::string Output(const std::string& name);
  // Waits until `name`'s output contains `text`; false after `timeout`.
  bool AwaitOutput(const std::string& name, const std::string& text,
                   absl::Duration timeout = absl::Seconds(20));

  // The fake server's device grants, in no particular order.
  struct Grant {
    std::string user_code;
    int state = 0;  // 0 pending, 1 approved, 2 denied, 3 used
    int too_fast = 0;
    std::vector<int64_t> poll_ms;  // when each poll came, from the grant's issue
  };
  std::vector<Grant> Grants();
  // Waits for a grant to exist and returns its user code ("" after `timeout`).
  std::string AwaitGrant(absl::Duration timeout = absl::Seconds(20));

  // Asks the fake server for a fresh access token of `email`; remembered as a secret.
  std::string MintToken(const std::string& email = "you@yourcompany.com");
  // True while the fake server considers `token` valid (not revoked or expired).
  bool TokenActive(const std::string& token);
  // One counter of the fake server's /_admin/stats ("userinfo_requests", "refreshes",
  // "revocations", "foreign_tokens", ...); -1 when it cannot be read.
  int ServerStat(const std::string& name);
  // POSTs a form to the fake server's admin API; returns the HTTP status.
  int AdminPost(const std::string& path, const std::string& form);
  void StopServer();

  // A session that is signed in and confirmed: mints a token, writes the credentials with it,
  // and runs `datagen auth status` (which starts the agent), expecting exit 0. Returns the token.
  std::string SignedIn();

  // Writes the credentials file by hand, as a user (or an independent tool) would, naming this
  // world's server as its issuer (api_url), as every login records it.
  // `api_url`: the issuer to record instead ("" for this world's server).
  void WriteCredentials(const std::string& token, const std::string& org = "yourcompany",
                        const std::string& api_url = "");

  // The agent that serves this world's socket, from its lock file; -1 when none.
  pid_t AgentPid() const;
  // Stops the agent (SIGTERM, then SIGKILL after a while); true when it exited.
  bool StopAgent();
  std::string AgentLog() const;

  const std::string& dir() const { return dir_; }
  std::string credentials_path() const { return dir_ + "/cfg/datagen/credentials.json"; }
  std::string socket_dir() const { return dir_ + "/run/datagen"; }
  std::string socket_path() const { return socket_dir() + "/agent.sock"; }
  const std::string& api_url() const { return api_url_; }
  // Every stdout and stderr the world's commands produced so far.
  const std::string& transcript() const { return transcript_; }
  // Also checked against every output on destruction.
  void AddSecret(const std::string& secret) { secrets_.push_back(secret); }

  static std::string DatagenBinary();
  static std::string AgentBinary();

 private:
  std::string Admin(const std::string& method, const std::string& path, const std::string& form,
                    int* status);

  std::string dir_;
  std::string api_url_;
  std::unique_ptr<Child> server_;
  std::vector<std::string> secrets_;
  std::string transcript_;
  std::map<std::string, bool> outputs_collected_;
};

// Options with fake_server --discovery=`mode` ("" for no server at all).
inline E2eEnv::Options WithDiscovery(std::string mode) {
  E2eEnv::Options options;
  options.discovery = std::move(mode);
  return options;
}

// A loopback TCP port that nothing listens on (bound and released).
int UnusedLoopbackPort();

// A socket at <dir>/theirs/agent.sock in a folder that another user (uid 65534) owns, with a
// listener behind it (tests/testing/listener.py: the test's target needs it as data) that
// records every connection. For tests that a client refuses the folder and sends nothing.
class ForeignSocket {
 public:
  explicit ForeignSocket(const std::string& dir);
  const std::string& path() const { return path_; }
  // "<connections> <bytes received> <connections closed>": "0 0 0" when nothing connected.
  std::string Record() const;

 private:
  std::string path_, record_;
  Child listener_;
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_E2E_ENV_H_
