// The gRPC service datagen.agent.v1.AuthAgent: maps each call to the Session of the profile it
// names (its login broker, its doctor) and absl::Status to grpc::Status one to one. Every call of
// the proto is offered; a newer client's call that this agent does not know gets gRPC's own
// UNIMPLEMENTED.
#ifndef DATAGEN_AGENT_RPC_AGENT_SERVICE_H_
#define DATAGEN_AGENT_RPC_AGENT_SERVICE_H_

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/common/clock.h"
#include "agent/common/wire_contract.h"
#include "agent/profiles/profile_set.h"
#include "agent/rpc/call_reply.h"
#include "agent/rpc/peer_table.h"
#include "agent/rpc/token_audit.h"
#include "agent/runtime/activity.h"
#include "agent/runtime/executor.h"
#include "grpcpp/grpcpp.h"
#include "proto/datagen/agent/v1/agent.grpc.pb.h"

namespace datagen {
namespace v1 = agent::v1;

// Uses the callback API; work that may touch the network runs on `executor` (logins on the
// broker's own threads), never on gRPC's threads. Does not own its collaborators, which must
// outlive the gRPC server.
class AgentService final : public agent::v1::AuthAgent::CallbackService {
 public:
  using Context = grpc::CallbackServerContext;
  using Unary = grpc::ServerUnaryReactor;

  // Calls, streams and logins in progress are counted in `activity`.
  // `info` is what GetAgentInfo answers and every reply's metadata carries; `handover` asks the
  // agent to exit for an upgrade and says whether it exits now (see Handover in agent.proto).
  // A call that names a profile not loaded yet is offloaded (loading reads its files); a login
  // or a watch of a profile that does not exist creates it (its folder).
  // `peers` names the process behind each connection and `audit` records each token handed
  // out to one (ListTokenHandouts).
  AgentService(ProfileSet& profiles, Executor& executor, Activity& activity,
               agent::v1::AgentInfo info, std::function<bool()> handover, const PeerTable& peers,
               TokenAudit& audit);

  // Attaches the caller to the login in progress (LoginBroker), streaming its code and result.
  grpc::ServerWriteReactor<v1::LoginEvent>* Login(Context* context,
                                                  const v1::LoginRequest* request) override;

  // From memory on gRPC's thread when it can (Session::TryStatusFromMemory), else offloaded.
  Unary* GetStatus(Context*, const v1::GetStatusRequest*, v1::GetStatusResponse*) override;

  // Offloaded: it may ask the server.
  Unary* ListOrgs(Context*, const v1::ListOrgsRequest*, v1::ListOrgsResponse*) override;

  // Offloaded: it always asks the server, then rewrites the file.
  Unary* UseOrg(Context*, const v1::UseOrgRequest*, v1::UseOrgResponse*) override;

  // Offloaded: it deletes the file, then revokes at the server.
  Unary* Logout(Context*, const v1::LogoutRequest*, v1::LogoutResponse*) override;

  // Offloaded: it may refresh the token first. Each token handed out is recorded in the audit,
  // with the process that asked.
  Unary* GetToken(Context*, const v1::GetTokenRequest*, v1::GetTokenResponse*) override;

  // Answered on gRPC's thread, from memory.
  Unary* ListTokenHandouts(Context*, const v1::ListTokenHandoutsRequest*,
                           v1::ListTokenHandoutsResponse*) override;

  // Offloaded: one round trip to the identity server (Doctor).
  Unary* Diagnose(Context*, const v1::DiagnoseRequest*, v1::DiagnoseResponse*) override;

  // Answered on gRPC's thread, from memory.
  Unary* GetAgentInfo(Context*, const v1::GetAgentInfoRequest*, v1::AgentInfo*) override;

  // Offloaded: it may load the profiles on disk.
  Unary* ListProfiles(Context*, const v1::ListProfilesRequest*, v1::ListProfilesResponse*) override;

  // Answered on gRPC's thread; the exit itself happens later (Agent::Handover).
  Unary* Handover(Context*, const v1::HandoverRequest*, v1::HandoverResponse*) override;

  // Streams the session as it changes (Session watchers), oldest events dropped for a slow
  // reader, never the newest.
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(Context* context,
                                                  const v1::WatchRequest* request) override;

 private:
  // The largest request the agent takes (agent.proto): every request is a few short fields.
  static constexpr size_t kMaxRequestBytes = 64 * 1024;
  // The longest validity a GetToken may ask for (a week): beyond is INVALID_ARGUMENT.
  static constexpr int64_t kMaxMinValidSeconds = 7 * 24 * 3600;

  // GetStatus with answer_signed_out: "not signed in" as a reply, with the waiting login's code.
  absl::StatusOr<v1::GetStatusResponse> SignedOutReply(
      Profile* profile, absl::StatusOr<v1::GetStatusResponse> status);
  // The full path of GetStatus (on the executor).
  absl::StatusOr<v1::GetStatusResponse> FullStatus(const v1::GetStatusRequest& request);

  // agent.proto: a request over kMaxRequestBytes is RESOURCE_EXHAUSTED, answered (with the
  // agent's trailer, as every reply) by this; nullptr when `request` is within the bound.
  grpc::ServerUnaryReactor* RefuseOversized(grpc::CallbackServerContext* context,
                                            const google::protobuf::Message& request);
  // Refuses an oversized `request` (RefuseOversized), else runs `call` on the executor and
  // finishes the call with its result.
  template <typename Response, typename Call>
  Unary* Offload(Context* context, const google::protobuf::Message& request, Response* response,
                 Call call);
  // Refuses an oversized `request`, else runs `fill` (memory only: no I/O, no waiting) on
  // gRPC's thread and finishes the call OK.
  template <typename Fill>
  Unary* AnswerNow(Context* context, const google::protobuf::Message& request, Fill fill);

  ProfileSet& profiles_;
  Executor& executor_;
  Activity& activity_;
  const agent::v1::AgentInfo info_;
  const std::function<bool()> handover_;
  const PeerTable& peers_;
  TokenAudit& audit_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RPC_AGENT_SERVICE_H_
