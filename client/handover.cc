#include "client/handover.h"

#include <unistd.h>

#include "absl/time/clock.h"
#include "agent/common/fd_io.h"
#include "agent/common/version.h"
#include "agent/common/wire_contract.h"

namespace datagen::cli {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(60);

std::string Trailer(const grpc::ClientContext& context, const char* key) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto found = trailers.find(key);
  if (found == trailers.end()) return "";
  return std::string(found->second.data(), found->second.size());
}

}  // namespace

bool OutdatedAgent(const grpc::ClientContext& answered, const std::string& installed,
                   agent::v1::AuthAgent::StubInterface& stub) {
  const std::string version = Trailer(answered, kAgentVersionKey);
  const std::string binary = Trailer(answered, kAgentBinaryKey);
  if (version.empty() || binary.empty() || installed.empty()) return false;
  if (version == kVersion && binary == FileIdentity(installed)) return false;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  agent::v1::AgentInfo info;
  if (!stub.GetAgentInfo(&context, agent::v1::GetAgentInfoRequest(), &info).ok()) return false;
  return info.binary_path() == installed;
}

bool AskToHandOver(agent::v1::AuthAgent::StubInterface& stub, const Dialer& dial,
                   const std::string& socket_path) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  agent::v1::HandoverRequest request;
  request.set_client_version(kVersion);
  agent::v1::HandoverResponse reply;
  if (!stub.Handover(&context, request, &reply).ok() || !reply.exiting_now()) return false;
  // Wait until it stops answering; then the next call starts the installed agent.
  for (absl::Time end = absl::Now() + kHandoverWait; absl::Now() < end;) {
    absl::StatusOr<int> fd = dial(socket_path);
    if (!fd.ok()) return true;
    close(*fd);
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace datagen::cli
