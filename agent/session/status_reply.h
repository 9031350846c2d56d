// The words and replies about a session that more than one path builds: the status reply (from
// memory or after a round trip, always by BuildStatusReply), the warnings each reply carries, and
// the errors of a session that cannot be used.
//
// Pure functions; thread-safe.
#ifndef DATAGEN_AGENT_SESSION_STATUS_REPLY_H_
#define DATAGEN_AGENT_SESSION_STATUS_REPLY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/common/proto_time.h"
#include "proto/datagen/agent/v1/agent.pb.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {

// What the agent knows around a session, beyond its credentials and its user.
struct SessionContext {
  std::string issuer;             // the issuer of the session (Credentials.api_url, resolved)
  std::string configured_issuer;  // the agent's configured issuer
  int revocations_pending = 0;
  bool unsaved = false;       // a refreshed token lives only in memory
  std::string unsaved_error;  // why it could not be saved
};

// The membership of `user` in `slug`, or nullptr.
const server::v1::UserMembership* FindMembership(const server::v1::UserInfo& user,
                                                 absl::string_view slug);
// The organization a new session starts in: the membership marked default, else the first, else
// "" (no organization).
std::string DefaultOrganization(const server::v1::UserInfo& user);

// A reply's warnings, each with its kind (agent.proto WarningKind). Their messages say what
// happened, never which command to run: that advice is the client's.
using Warnings = std::vector<agent::v1::Warning>;
agent::v1::Warning MakeWarning(agent::v1::WarningKind kind, std::string message,
                               std::string subject = "");
// Each of `notes` (repairs the store made: permissions tightened) as WARNING_KIND_FILE_REPAIRED.
void AddRepairs(std::vector<std::string> notes, Warnings* warnings);
// Sets a reply's `warnings` (the messages) and `warning_details`, in the same order.
template <typename Reply>
void SetWarnings(Warnings warnings, Reply* reply) {
  for (agent::v1::Warning& warning : warnings) {
    reply->add_warnings(warning.message());
    *reply->add_warning_details() = std::move(warning);
  }
}

// Appends the warning that the stored active organization is no longer among the memberships.
void WarnIfNotMember(const agent::v1::Credentials& credentials, const server::v1::UserInfo& user,
                     Warnings* warnings);
// Appends the warnings every reply about the session carries: an unsaved refreshed token, a
// configured issuer other than the session's.
void AddStandingWarnings(const SessionContext& context, Warnings* warnings);

// The Status reply: `warnings` first, then the membership and standing warnings.
agent::v1::GetStatusResponse BuildStatusReply(const agent::v1::Credentials& credentials,
                                              const server::v1::UserInfo& user,
                                              const SessionContext& context, Warnings warnings);

// Sets a Status or ListOrgs reply's verified_at (unless InfinitePast: never confirmed) and
// unverified.
template <typename Reply>
void SetVerification(absl::Time verified_at, bool unverified, Reply* reply) {
  if (verified_at != absl::InfinitePast()) SetTime(verified_at, reply->mutable_verified_at());
  reply->set_unverified(unverified);
}

// The organization a call asks for (agent.proto "Profiles"); an empty slug: the stored one.
struct OrgChoice {
  std::string slug;
  agent::v1::OrgSource source = agent::v1::ORG_SOURCE_UNSPECIFIED;
};
// A reply's org_source for `source`: "flag", "env", or "request".
std::string OrgSourceName(agent::v1::OrgSource source);
// FailedPrecondition with ERROR_REASON_NOT_A_MEMBER: `user` is not a member of `slug` (the
// message lists the memberships).
absl::Status NotAMemberError(absl::string_view slug, const server::v1::UserInfo& user);
// Puts the organization in effect into `credentials` (the copy a reply is built from) and
// returns the reply's org_source: "file" for the stored one ("" when there is none), else the
// choice's source. InvalidArgument for a malformed slug; NotAMemberError when `user` is not a
// member of the chosen one. Changes nothing else.
absl::StatusOr<std::string> ApplyOrgChoice(const OrgChoice& choice,
                                           const server::v1::UserInfo& user,
                                           agent::v1::Credentials* credentials);

// Unauthenticated errors of a session that cannot be used (agent.proto). NotSignedInError
// carries the count as a payload, so that GetStatus can answer it as a reply (AnswerSignedOut).
absl::Status NotSignedInError(int revocations_pending = 0);
// GetStatus with answer_signed_out: a NotSignedInError becomes an OK reply with signed_out and
// revocations_pending set; any other reply or error is returned as it is.
absl::StatusOr<agent::v1::GetStatusResponse> AnswerSignedOut(
    absl::StatusOr<agent::v1::GetStatusResponse> reply);
absl::Status ExpiredError(absl::string_view reason);

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_STATUS_REPLY_H_
