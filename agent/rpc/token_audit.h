// Who took a token (agent.proto ListTokenHandouts): the agent remembers, in memory only, the last
// kCapacity hand-outs of a token: when, which profile, and the process that asked (its pid and
// uid from the connection's peer credentials, its executable, its parent and the parent's
// executable, read from /proc at the time of the hand-out). Never the token.
//
// A process whose executable was deleted or replaced since it started (the file at its path is
// no longer the one it runs, or /proc says "(deleted)") is marked executable_changed: a program
// that updated itself, or one that hides what it is.
//
// Thread-safety: thread-safe; Record reads /proc (a few small reads) outside the lock.
#ifndef DATAGEN_AGENT_RPC_TOKEN_AUDIT_H_
#define DATAGEN_AGENT_RPC_TOKEN_AUDIT_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// A process as the audit shows it.
struct ProcessInfo {
  pid_t parent_pid = 0;
  std::string executable;         // "" when /proc does not say (the process is gone)
  std::string parent_executable;  // likewise
  bool executable_changed = false;
};

// Reads /proc/<pid> (`proc` is the /proc root: tests pass a fake tree).
ProcessInfo DescribeProcess(pid_t pid, const std::string& proc = "/proc");

class TokenAudit {
 public:
  static constexpr size_t kCapacity = 1000;

  // A token of `profile` was handed out at `now` by `rpc` to `peer` (nullopt: unknown peer,
  // recorded with pid 0).
  void Record(const std::string& profile, const std::optional<ucred>& peer, absl::Time now,
              const std::string& rpc) ABSL_LOCKS_EXCLUDED(mu_);
  // Newest first.
  agent::v1::ListTokenHandoutsResponse List() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::deque<agent::v1::TokenHandout> handouts_ ABSL_GUARDED_BY(mu_);  // oldest first
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RPC_TOKEN_AUDIT_H_
