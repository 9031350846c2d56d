// The agent's one source of truth about the user's session: the stored credentials (reloaded
// when the file changes behind the agent's back), whether the server still accepts them, a
// login waiting for approval, the tokens awaiting revocation, and the watchers told of every
// change. A thin composition of single-purpose parts, each with its own contract and tests:
// CredentialsCache (the file, reloads, an interrupted logout, an unsaved refreshed token),
// IdentityCache (the staleness bound), RefreshSchedule (when to refresh, backoff), WatchHub
// (generations, fan-out) and status_reply.h (the one builder of the Status reply).
#ifndef DATAGEN_AGENT_SESSION_SESSION_H_
#define DATAGEN_AGENT_SESSION_SESSION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "agent/common/clock.h"
#include "agent/common/random.h"
#include "agent/common/text.h"
#include "agent/oauth/issuers.h"
#include "agent/oauth/token_reply.h"
#include "agent/session/credentials_cache.h"
#include "agent/session/identity_cache.h"
#include "agent/session/refresh_schedule.h"
#include "agent/session/status_reply.h"
#include "agent/session/watch_hub.h"
#include "agent/store/credential_store.h"
#include "agent/store/revocation_queue.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// Thread-safe. Store access is serialized by an internal lock that is never held across a
// network request, so a slow server delays only the calls that need it. Does not own its
// collaborators, which must outlive it.
//
// Every request about a session goes to the issuer recorded with it (Credentials.api_url; the
// configured issuer for files without one), never simply to the configured issuer. Every
// read-modify-write of the credentials takes the store's Lock first (several agents may share
// the file), re-reads under it, and a refresh is made only while the file still holds the token
// it meant to refresh. Lock order: refresh_mu_, then the store's Lock, then mu_.
//
// Errors follow agent.proto: Unauthenticated when signed out, expired or the token is rejected,
// Unavailable when the server cannot be reached, DataLoss for a corrupt file (moved aside),
// FailedPrecondition for unsafe files or an org the user does not belong to.
class Session {
 public:
  // Receives WatchEvents, with the session's lock held: must not block or call back into it.
  using Watcher = WatchHub::Watcher;

  // How long before expiry GetToken refreshes a token it hands out (at most: a quarter of a
  // shorter token's lifetime, RefreshSchedule::HandOutMargin).
  static constexpr absl::Duration kHandOutMargin = absl::Seconds(60);

  // Status and ListOrgs answer from the identity the server gave within `identity_max_age`
  // (zero: always ask the server), so that prompts and status bars cost no network round trip;
  // a revoked token is noticed within that bound.
  // `random`: the jitter of the refresh schedule and of retries (common/random.h); not owned.
  // `profile`: the profile this session is (agent.proto "Profiles"), named in its events and
  // replies; `instance`: its events' agent_instance (WatchHub; empty: a new one).
  Session(CredentialStore& store, Issuers& issuers, RevocationQueue& revocations, Clock& clock,
          Random& random, absl::Duration identity_max_age = absl::ZeroDuration(),
          std::string profile = kDefaultProfile, std::string instance = "");
  // Wipes the tokens it holds (secret_memory.h).
  ~Session();

  // The status when it can be answered from memory at once (signed out, expired, or an identity
  // known for the session, with no warnings to report but its age); nullopt when answering
  // needs the disk or the network (nothing known yet). Never blocks on I/O: for gRPC's callback
  // threads.
  // `org`: the organization in effect for this call (status_reply.h ApplyOrgChoice): checked
  // against the memberships the reply is built from, never stored.
  std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> TryStatusFromMemory(
      const OrgChoice& org = {}) ABSL_LOCKS_EXCLUDED(mu_);

  // Status and ListOrgs never wait on the network unless `verify` (ask the server now and wait
  // for its answer) or the agent knows nothing yet of the session's identity. An identity older
  // than the staleness bound is answered marked unverified (GetStatusResponse.unverified) and
  // confirmed again in the background (DoDueWork): a token the server rejected is then noticed
  // by the next call. When the server cannot be reached and nothing is known, Status answers
  // from the credentials file alone (unverified, no role); ListOrgs is Unavailable.
  // With an `org` and the server unreachable before anything is known, the membership cannot
  // be checked: Unavailable.
  absl::StatusOr<agent::v1::GetStatusResponse> Status(bool verify = false,
                                                      const OrgChoice& org = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<agent::v1::ListOrgsResponse> ListOrgs(bool verify = false,
                                                       const OrgChoice& org = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  // InvalidArgument for a malformed slug. Leaves the file untouched on any error.
  absl::StatusOr<agent::v1::UseOrgResponse> UseOrg(absl::string_view slug) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues the tokens for revocation (persisted), deletes the credentials, then revokes at the
  // server; what the server did not accept stays queued and is retried by DoDueWork.
  absl::StatusOr<agent::v1::LogoutResponse> Logout() ABSL_LOCKS_EXCLUDED(mu_);
  // The current access token, refreshed first when it expires within its hand-out margin or
  // within `min_valid` (RefreshSchedule::NeededFor; one refresh for all callers at once), with
  // its issuer, user and the organization in effect (`org`: checked as Status checks it, from
  // memory when the identity is known). The reply says when the token still expires within
  // `min_valid` (min_valid_unmet: the server's tokens live shorter, or it cannot be refreshed).
  absl::StatusOr<agent::v1::GetTokenResponse> GetToken(
      const OrgChoice& org = {}, absl::Duration min_valid = absl::ZeroDuration())
      ABSL_LOCKS_EXCLUDED(mu_);

  // The issuer a login that names none goes to: the one the session was issued by ("" when
  // signed out: the configured one). From memory, or the file when it changed.
  std::string LoginIssuer() ABSL_LOCKS_EXCLUDED(mu_);
  // The profile as `status --all` lists it, from memory (the file when it changed); never a
  // network round trip.
  agent::v1::ProfileSummary Summary() ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& profile() const { return profile_; }

  // Finishes a login at `issuer`: reads the new token's identity there, picks the default
  // organization (the membership marked default, else the first), stores the credentials
  // atomically, and then queues the session it replaced, if any, for revocation at its own
  // issuer. When a step fails, nothing is stored and the new tokens are queued for revocation
  // (the error says so, or says plainly that they could not be).
  absl::StatusOr<agent::v1::LoginResult> CompleteLogin(const IssuedTokens& tokens,
                                                       const std::string& issuer)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A login now waits for approval with `code` / no longer does (without signing in).
  void NoteLoginPending(const agent::v1::DeviceCode& code) ABSL_LOCKS_EXCLUDED(mu_);
  void NoteLoginEnded() ABSL_LOCKS_EXCLUDED(mu_);
  // The code of the login waiting for approval, if one does.
  std::optional<agent::v1::DeviceCode> PendingLogin() ABSL_LOCKS_EXCLUDED(mu_);

  // Adds a watcher and sends it the current state (SESSION_CHANGE_INITIAL) before returning.
  // Returns a handle for RemoveWatcher, after which it gets no more calls.
  uint64_t AddWatcher(Watcher* watcher) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveWatcher(uint64_t handle) ABSL_LOCKS_EXCLUDED(mu_);

  // Re-reads the credentials file if it changed behind the agent's back, telling watchers.
  void CheckFile() ABSL_LOCKS_EXCLUDED(mu_);

  // Background work: refreshes the token when due, retries saving a refreshed token that could
  // not be saved, retries due revocations. Returns when it is next due, on the clock's
  // monotonic time (InfiniteFuture when nothing is). `on_schedule_change` is called (without the
  // lock) whenever that time may have moved earlier, so that a scheduler can wake up.
  absl::Time DoDueWork() ABSL_LOCKS_EXCLUDED(mu_);
  void SetScheduleListener(std::function<void()> on_schedule_change);

  // Tells watchers that the agent is exiting to hand over to a newer binary
  // (SESSION_CHANGE_AGENT_RESTARTING).
  void PublishRestarting() ABSL_LOCKS_EXCLUDED(mu_);
  // Tells watchers that the agent is stopping (SESSION_CHANGE_AGENT_STOPPING).
  void PublishStopping() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Snapshot {
    agent::v1::Credentials credentials;
    server::v1::UserInfo user;
    Warnings warnings;
    absl::Time verified_at = absl::InfinitePast();  // wall time; InfinitePast: never
    bool unverified = false;
    bool file_only = false;  // the server was unreachable: `user` is what the file says
  };

  // The current credentials (CredentialsCache::Current); a change behind the agent's back is
  // published as SESSION_CHANGE_FILE_CHANGED.
  absl::StatusOr<agent::v1::Credentials> CurrentLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // For calls that answer a person: Unauthenticated when there is no session or the server
  // refused it; the corrupt-file report if one is unreported; unreported warnings are moved to
  // *warnings. With `even_if_expired`, a session the server once refused is returned too (to ask
  // the server again: --verify).
  absl::StatusOr<agent::v1::Credentials> UsableLocked(Warnings* warnings,
                                                      bool even_if_expired = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where a read's identity may come from.
  enum class Source {
    kMemoryWhenKnown,  // the identity cache (marked unverified past the staleness bound)
    kServer,           // a userinfo round trip now (--verify; also a session once refused)
  };
  // What a read gives when the server cannot be reached and nothing is known yet.
  enum class Unreachable {
    kFail,         // the server's UNAVAILABLE (org --list: no memberships to show)
    kFileAndWarn,  // the credentials file's own email and org, unverified (status)
  };
  // Current credentials (refreshed first if already expired) plus the user's identity, from
  // `source` (a round trip refills the cache).
  absl::StatusOr<Snapshot> Read(Source source, Unreachable unreachable) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the server's answer about whom `token` belongs to: remembers the identity (OK), or
  // marks the session expired when the server refused the token (the ExpiredError every later
  // call gives); any other error is returned as it is.
  absl::Status TakeConfirmationLocked(const std::string& token,
                                      const absl::StatusOr<server::v1::UserInfo>& user)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The identity known for `credentials` from memory into *snapshot: true when one is. Marks it
  // unverified when older than the staleness bound, and asks the background work for a
  // confirmation (once until it is done: ScheduleChanged, which only pokes the wake loop).
  bool FromMemoryLocked(const agent::v1::Credentials& credentials, Snapshot* snapshot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Saves `credentials` as the session and publishes `change`.
  absl::Status SaveLocked(const agent::v1::Credentials& credentials,
                          agent::v1::SessionChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The issuer of `credentials`.
  std::string IssuerOf(const agent::v1::Credentials& credentials) const;
  // What the status builder needs to know beside the credentials and the user.
  SessionContext ContextLocked(const agent::v1::Credentials& credentials)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The one revocation path. TokensOf: what revoking `credentials` means (the access token, then
  // the refresh token if any, at `issuer`). QueueRevocation: records them in the never-lost
  // queue and wakes the loop that revokes them; false when they could not be recorded.
  // RevokeAtIssuer: one RFC 7009 request, at the token's own issuer (never under mu_).
  static std::vector<RevocationQueue::Token> TokensOf(const agent::v1::Credentials& credentials,
                                                      const std::string& issuer);
  bool QueueRevocation(const agent::v1::Credentials& credentials, const std::string& issuer);
  absl::Status RevokeAtIssuer(const RevocationQueue::Token& token) ABSL_LOCKS_EXCLUDED(mu_);
  // Revokes `tokens` now (the logout path); those accepted or refused for good leave the queue.
  // Fills the reply's revoked / revocation_error.
  void RevokeNow(const std::vector<RevocationQueue::Token>& tokens,
                 agent::v1::LogoutResponse* reply);
  // The credentials a login produced, before they are stored.
  agent::v1::Credentials NewSession(const IssuedTokens& tokens, const std::string& issuer,
                                    const server::v1::UserInfo& user);
  // Stores a login's credentials and remembers its user; *replaced gets the session it
  // replaced, if any.
  absl::Status StoreLogin(const agent::v1::Credentials& fresh, const server::v1::UserInfo& user,
                          std::optional<agent::v1::Credentials>* replaced) ABSL_LOCKS_EXCLUDED(mu_);
  // The server refused the session whose token is `token`.
  void MarkExpiredLocked(const std::string& token, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ExpiredLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets that the server refused a token (a new login, or the server accepting it again).
  void ClearExpiredLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  agent::v1::SessionSnapshot SnapshotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishLocked(agent::v1::SessionChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time RefreshDueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleChanged() ABSL_LOCKS_EXCLUDED(listener_mu_);

  // Refreshes the access token with the refresh token, one refresh at a time. `only_if_due`
  // skips the request when it is not due (the background's schedule). `stale_token`, when not
  // empty, is the access token the caller found too old: a caller that waited while another
  // refreshed it finds a different token and makes no request (single flight).
  absl::Status Refresh(bool only_if_due, absl::string_view stale_token)
      ABSL_LOCKS_EXCLUDED(mu_, refresh_mu_);
  // Takes a refresh's result into the session (saved, or kept in memory when it cannot be).
  absl::Status ApplyRefreshLocked(const agent::v1::Credentials& before, const IssuedTokens& tokens)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Background work of DoDueWork: the unsaved token's save, the revocation queue.
  void RetryUnsavedIfDue() ABSL_LOCKS_EXCLUDED(mu_);
  void RetryRevocationsIfDue() ABSL_LOCKS_EXCLUDED(mu_);
  // Background work of DoDueWork: confirms a stale identity with the server when a call asked.
  void RevalidateIfAsked() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string profile_;
  Issuers& issuers_;
  CredentialStore& store_;
  RevocationQueue& revocations_;
  Clock& clock_;
  // Set once the agent holds its lock (after the server may already serve calls): guarded.
  absl::Mutex listener_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::function<void()> on_schedule_change_ ABSL_GUARDED_BY(listener_mu_);

  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  CredentialsCache credentials_ ABSL_GUARDED_BY(mu_);
  IdentityCache identity_ ABSL_GUARDED_BY(mu_);
  RefreshSchedule refresh_schedule_ ABSL_GUARDED_BY(mu_);
  WatchHub watchers_ ABSL_GUARDED_BY(mu_);
  // The token the server refused, and why; the session is expired while it is the current one.
  std::string expired_token_ ABSL_GUARDED_BY(mu_);
  std::string expired_reason_ ABSL_GUARDED_BY(mu_);
  std::optional<agent::v1::DeviceCode> pending_login_ ABSL_GUARDED_BY(mu_);
  // A call answered from a stale identity: DoDueWork asks the server again.
  bool revalidate_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_SESSION_H_
