// The agent's listener: a Unix socket in a private folder, guarded by a lock file, with its own
// accept loop that checks every peer's uid (SO_PEERCRED) before handing the connection to gRPC.
#ifndef DATAGEN_AGENT_RPC_SERVER_H_
#define DATAGEN_AGENT_RPC_SERVER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/common/clock.h"
#include "agent/common/fd_io.h"
#include "agent/rpc/peer_table.h"
#include "grpcpp/grpcpp.h"

namespace datagen {

class AgentServer {
 public:
  // When the agent sleeps: after `after` with nothing in progress (`until_idle_for`, e.g.
  // Agent::UntilIdleFor) and no new connection (on `clock`'s monotonic time), the gRPC server is
  // destroyed, and with the last gRPC object every gRPC thread ends; the accept loop then waits
  // on the listening socket alone (no timer, no wake-up) and builds a new gRPC server for the
  // next connection. Connections still open then are closed (a gRPC client reconnects on its
  // next call). `after` zero: never.
  struct Sleep {
    absl::Duration after = absl::ZeroDuration();
    Clock* clock = nullptr;  // not owned
    std::function<absl::Duration(absl::Duration)> until_idle_for;
  };

  // Checks the socket's folder (0700, owned by `uid`, created when absent; else a clear
  // refusal), takes the lock file "<socket>.lock" (AlreadyExists when another live agent holds
  // it: its socket is never touched), replaces a stale socket file, listens, and starts gRPC
  // with `services` plus the accept loop. Connections from any uid other than `uid` are closed
  // before a byte is read. Does not own the services, which must outlive the server.
  //
  // `sleep`: when gRPC stops while idle (see Sleep). With `inherited_fd` >= 0 (socket activation:
  // systemd passed a listening socket), that socket is served instead and is neither created nor
  // removed; the lock is still taken. The standard grpc.health.v1.Health service answers SERVING.
  // `peers` (not owned; may be null) learns the peer credentials of every connection accepted,
  // before gRPC sees it.
  static absl::StatusOr<std::unique_ptr<AgentServer>> Start(
      const std::string& socket_path, uid_t uid, const std::vector<grpc::Service*>& services,
      int inherited_fd, Sleep sleep, PeerTable* peers = nullptr);

  // Whether gRPC is up now (false while asleep).
  bool awake();
  // Asks the accept loop to look again at once whether it is time to sleep (after a call ended,
  // or a test advanced the clock).
  void Reconsider();
  // As Reconsider, and returns once the accept loop has looked, with the clock as it is now: gRPC
  // is stopped by then if it was time (for a caller that has moved an injected clock). Returns
  // at once when the loop is not running.
  void ReconsiderAndWait() ABSL_LOCKS_EXCLUDED(look_mu_);

  // The listening socket systemd passed (LISTEN_PID = this process, LISTEN_FDS = 1), or -1.
  // Clears the variables so that children do not take it too.
  static int TakeSocketFromSystemd();
  // The path a listening Unix socket is bound to (getsockname): for an inherited socket, the
  // truth about where the agent serves, whatever its environment would compute.
  // InvalidArgument for a socket that is not a Unix socket bound to a path.
  static absl::StatusOr<std::string> BoundPath(int fd);

  // Stops accepting, ends in-flight calls (cancelled after `grace`), removes the socket file.
  // Idempotent; also done by the destructor.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  ~AgentServer();

 private:
  AgentServer() = default;
  // Takes the lock beside the socket, waiting (at most kLockWait) for a dying holder.
  absl::Status TakeLock();
  // Binds and listens on the socket path (0600), replacing a dead agent's socket file.
  absl::Status Listen();
  // Starts gRPC over `services` and the thread that accepts checked peers.
  absl::Status StartServing();
  // Builds and starts the gRPC server over services_.
  absl::Status StartGrpc();
  // Destroys the gRPC server (nothing is in progress): the agent sleeps.
  void StopGrpc();
  // How long the accept loop may wait before it looks again whether to sleep; -1: for ever.
  int PollTimeoutMs();
  // PollTimeoutMs, marking the ReconsiderAndWait tickets asked before it as done.
  int LookAgain() ABSL_LOCKS_EXCLUDED(look_mu_);
  // The accept thread: AcceptUntilShutdown, with loop_running_ set around it.
  void AcceptLoop() ABSL_LOCKS_EXCLUDED(look_mu_);
  void AcceptUntilShutdown();

  std::string socket_path_;
  uid_t uid_ = 0;
  UniqueFd listen_fd_;
  UniqueFd lock_fd_;
  UniqueFd wake_fd_;  // eventfd that ends the accept loop
  bool owns_socket_file_ = true;
  std::vector<grpc::Service*> services_;
  Sleep sleep_;
  PeerTable* peers_ = nullptr;                     // not owned
  absl::Time last_accept_ = absl::InfinitePast();  // sleep_.clock's monotonic time
  UniqueFd poke_fd_;                               // eventfd: look again whether to sleep
  uint64_t clock_subscription_ = 0;                // sleep_.clock's moves: Reconsider
  absl::Mutex grpc_mu_;  // guards grpc_server_ for awake(); written by the accept loop only
  std::unique_ptr<grpc::Server> grpc_server_;
  std::thread accept_thread_;
  bool shut_down_ = false;
  // ReconsiderAndWait's tickets: asked by callers, done by the accept loop once it has looked.
  absl::Mutex look_mu_;
  uint64_t looks_asked_ ABSL_GUARDED_BY(look_mu_) = 0;
  uint64_t looks_done_ ABSL_GUARDED_BY(look_mu_) = 0;
  bool loop_running_ ABSL_GUARDED_BY(look_mu_) = false;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RPC_SERVER_H_
