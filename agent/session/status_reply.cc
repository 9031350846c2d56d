#include "agent/session/status_reply.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/common/reason.h"
#include "agent/common/text.h"

namespace datagen {

const server::v1::UserMembership* FindMembership(const server::v1::UserInfo& user,
                                                 absl::string_view slug) {
  for (const auto& m : user.memberships()) {
    if (m.slug() == slug) return &m;
  }
  return nullptr;
}

std::string DefaultOrganization(const server::v1::UserInfo& user) {
  for (const auto& m : user.memberships()) {
    if (m.is_default()) return m.slug();
  }
  return user.memberships_size() > 0 ? user.memberships(0).slug() : "";
}

agent::v1::Warning MakeWarning(agent::v1::WarningKind kind, std::string message,
                               std::string subject) {
  agent::v1::Warning warning;
  warning.set_kind(kind);
  warning.set_message(std::move(message));
  warning.set_subject(std::move(subject));
  return warning;
}

void AddRepairs(std::vector<std::string> notes, Warnings* warnings) {
  for (std::string& note : notes) {
    warnings->push_back(MakeWarning(agent::v1::WARNING_KIND_FILE_REPAIRED, std::move(note)));
  }
}

void WarnIfNotMember(const agent::v1::Credentials& credentials, const server::v1::UserInfo& user,
                     Warnings* warnings) {
  const std::string& active = credentials.active_org_slug();
  if (!active.empty() && FindMembership(user, active) == nullptr) {
    warnings->push_back(MakeWarning(
        agent::v1::WARNING_KIND_NOT_A_MEMBER,
        absl::StrCat("you are no longer a member of the active organization ", active), active));
  }
}

std::string OrgSourceName(agent::v1::OrgSource source) {
  switch (source) {
    case agent::v1::ORG_SOURCE_FLAG:
      return "flag";
    case agent::v1::ORG_SOURCE_ENV:
      return "env";
    default:
      return "request";
  }
}

absl::Status NotAMemberError(absl::string_view slug, const server::v1::UserInfo& user) {
  std::vector<std::string> slugs;
  for (const auto& m : user.memberships()) slugs.push_back(m.slug());
  return WithReason(
      absl::FailedPreconditionError(absl::StrCat(
          "you are not a member of organization ", slug,
          slugs.empty() ? "; you belong to no organization"
                        : absl::StrCat("; your organizations: ", absl::StrJoin(slugs, ", ")))),
      agent::v1::ERROR_REASON_NOT_A_MEMBER);
}

absl::StatusOr<std::string> ApplyOrgChoice(const OrgChoice& choice,
                                           const server::v1::UserInfo& user,
                                           agent::v1::Credentials* credentials) {
  if (choice.slug.empty()) return credentials->active_org_slug().empty() ? "" : "file";
  if (!IsValidSlug(choice.slug)) {
    return absl::InvalidArgumentError(
        "an organization slug is 1 to 100 characters of letters, digits, '.', '_' and '-'");
  }
  if (FindMembership(user, choice.slug) == nullptr) return NotAMemberError(choice.slug, user);
  credentials->set_active_org_slug(choice.slug);
  return OrgSourceName(choice.source);
}

void AddStandingWarnings(const SessionContext& context, Warnings* warnings) {
  if (context.unsaved) {
    warnings->push_back(
        MakeWarning(agent::v1::WARNING_KIND_TOKEN_NOT_SAVED,
                    absl::StrCat("a refreshed token could not be saved (", context.unsaved_error,
                                 "); the agent keeps it in memory and retries saving it")));
  }
  if (context.issuer != context.configured_issuer) {
    warnings->push_back(
        MakeWarning(agent::v1::WARNING_KIND_OTHER_ISSUER,
                    absl::StrCat("this session was issued by ", context.issuer,
                                 ", but the agent is configured for ", context.configured_issuer,
                                 "; its tokens go only to ", context.issuer),
                    context.issuer));
  }
}

agent::v1::GetStatusResponse BuildStatusReply(const agent::v1::Credentials& credentials,
                                              const server::v1::UserInfo& user,
                                              const SessionContext& context, Warnings warnings) {
  WarnIfNotMember(credentials, user, &warnings);
  AddStandingWarnings(context, &warnings);
  agent::v1::GetStatusResponse reply;
  reply.set_email(user.email());
  reply.set_active_org_slug(credentials.active_org_slug());
  if (const auto* m = FindMembership(user, reply.active_org_slug())) reply.set_role(m->role());
  if (credentials.has_stored_at()) *reply.mutable_stored_at() = credentials.stored_at();
  if (credentials.has_token_expires_at()) {
    *reply.mutable_token_expires_at() = credentials.token_expires_at();
  }
  reply.set_api_url(context.issuer);
  reply.set_configured_api_url(context.configured_issuer);
  reply.set_revocations_pending(context.revocations_pending);
  SetWarnings(std::move(warnings), &reply);
  return reply;
}

namespace {
constexpr char kSignedOutPayload[] = "datagen.dev/signed-out/revocations-pending";
}  // namespace

absl::Status NotSignedInError(int revocations_pending) {
  absl::Status error = absl::UnauthenticatedError(
      revocations_pending == 0
          ? std::string("not signed in")
          : absl::StrCat("not signed in (", revocations_pending,
                         " token(s) of an ended session still await revocation at the server; "
                         "the agent keeps retrying)"));
  error.SetPayload(kSignedOutPayload, absl::Cord(std::to_string(revocations_pending)));
  return WithReason(std::move(error), agent::v1::ERROR_REASON_NOT_SIGNED_IN);
}

absl::StatusOr<agent::v1::GetStatusResponse> AnswerSignedOut(
    absl::StatusOr<agent::v1::GetStatusResponse> reply) {
  if (reply.ok()) return reply;
  auto pending = reply.status().GetPayload(kSignedOutPayload);  // optional<Cord>
  int count = 0;
  if (!pending || !absl::SimpleAtoi(std::string(*pending), &count)) return reply;
  agent::v1::GetStatusResponse signed_out;
  signed_out.set_signed_out(true);
  signed_out.set_revocations_pending(count);
  return signed_out;
}

absl::Status ExpiredError(absl::string_view reason) {
  return WithReason(absl::UnauthenticatedError(absl::StrCat("your session expired: ", reason)),
                    agent::v1::ERROR_REASON_SESSION_EXPIRED);
}

}  // namespace datagen
