// Who is at the other end of each connection the agent accepted: the peer credentials
// (SO_PEERCRED: pid, uid, gid at connect time), by the connection's file descriptor. The accept
// loop records a connection before handing it to gRPC; a call finds its own through gRPC's peer
// string for a channel made from a descriptor ("fd:<n>"). A descriptor number is reused only
// after gRPC closed the connection, and the accept loop records the new one before any call on
// it can run, so a call never sees another connection's peer.
//
// Thread-safety: thread-safe.
#ifndef DATAGEN_AGENT_RPC_PEER_TABLE_H_
#define DATAGEN_AGENT_RPC_PEER_TABLE_H_

#include <sys/socket.h>

#include <optional>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace datagen {

class PeerTable {
 public:
  // The connection `fd` was accepted from `peer`.
  void Set(int fd, const ucred& peer) ABSL_LOCKS_EXCLUDED(mu_);
  // The peer of the call whose gRPC peer string is `grpc_peer` ("fd:<n>"); nullopt for any
  // other form or an unknown descriptor.
  std::optional<ucred> Find(absl::string_view grpc_peer) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::unordered_map<int, ucred> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RPC_PEER_TABLE_H_
