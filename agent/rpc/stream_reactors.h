// The agent's two server streams, Login and Watch, as gRPC callback reactors: each writes its
// queued events one at a time (one write in flight, as the callback API requires), finishes
// exactly once with the agent's marks and reason (call_reply.h), counts itself in Activity while
// it lives, and deletes itself when gRPC is done with it.
//
// Threading: events come from the login's thread or under a session's lock; neither blocks on
// the reader (a slow watcher loses its oldest queued events, never the newest). Does not own the
// broker, the profiles or the activity, which must outlive the gRPC server.
#ifndef DATAGEN_AGENT_RPC_STREAM_REACTORS_H_
#define DATAGEN_AGENT_RPC_STREAM_REACTORS_H_

#include <string>

#include "absl/status/statusor.h"
#include "agent/profiles/profile_set.h"
#include "agent/runtime/activity.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// One caller of Login, attached to `profile`'s shared login (started at `issuer` when none runs;
// "": the issuer the profile's session was issued by, else the configured one). A profile that
// could not be loaded, or an issuer that is not a printable URL of at most 2048 characters, ends
// the stream at once with that error.
grpc::ServerWriteReactor<agent::v1::LoginEvent>* NewLoginStream(
    grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
    absl::StatusOr<Profile*> profile, Activity& activity, std::string issuer);

// One watcher of the profile `request` names (created when it does not exist yet), or of every
// profile (`all_profiles`: those loaded now and later), until the caller cancels or the server
// shuts down.
grpc::ServerWriteReactor<agent::v1::WatchEvent>* NewWatchStream(
    grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info, ProfileSet& profiles,
    const agent::v1::WatchRequest& request, Activity& activity);

}  // namespace datagen

#endif  // DATAGEN_AGENT_RPC_STREAM_REACTORS_H_
