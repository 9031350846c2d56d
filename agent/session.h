// The agent's one source of truth about the user's session: the stored credentials (reloaded
// when the file changes behind the agent's back), whether the server still accepts them, a
// login waiting for approval, the tokens awaiting revocation, and the watchers told of every
// change.
#ifndef DATAGEN_AGENT_SESSION_H_
#define DATAGEN_AGENT_SESSION_H_

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
#include "agent/clock.h"
#include "agent/credential_store.h"
#include "agent/identity_client.h"
#include "agent/issuers.h"
#include "agent/revocation_queue.h"
#include "agent/token_reply.h"
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
  // Receives WatchEvents. Called with the session's lock held: implementations must not block
  // and must not call back into the session.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    virtual void OnSessionEvent(const agent::v1::WatchEvent& event) = 0;
  };

  // How long before expiry GetToken refreshes a token it hands out.
  static constexpr absl::Duration kHandOutMargin = absl::Seconds(60);

  // Status and ListOrgs answer from the identity the server gave within `identity_max_age`
  // (zero: always ask the server), so that prompts and status bars cost no network round trip;
  // a revoked token is noticed within that bound.
  Session(CredentialStore& store, Issuers& issuers, RevocationQueue& revocations, Clock& clock,
          absl::Duration identity_max_age = absl::ZeroDuration());
  // Wipes the tokens it holds (secret_memory.h).
  ~Session();

  // The status when it can be answered from memory at once (signed out, expired, or an identity
  // younger than the staleness bound, with no warnings to report); nullopt when answering needs
  // the network or the disk. Never blocks on I/O: for gRPC's callback threads.
  std::optional<absl::StatusOr<agent::v1::GetStatusResponse>> TryStatusFromMemory()
      ABSL_LOCKS_EXCLUDED(mu_);

  // `verify`: ask the server now, whatever the age of what it said last.
  absl::StatusOr<agent::v1::GetStatusResponse> Status(bool verify = false) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<agent::v1::ListOrgsResponse> ListOrgs(bool verify = false)
      ABSL_LOCKS_EXCLUDED(mu_);
  // InvalidArgument for a malformed slug. Leaves the file untouched on any error.
  absl::StatusOr<agent::v1::UseOrgResponse> UseOrg(absl::string_view slug) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues the tokens for revocation (persisted), deletes the credentials, then revokes at the
  // server; what the server did not accept stays queued and is retried by DoDueWork.
  absl::StatusOr<agent::v1::LogoutResponse> Logout() ABSL_LOCKS_EXCLUDED(mu_);
  // The current access token, refreshed first when it expires within kHandOutMargin.
  absl::StatusOr<agent::v1::GetTokenResponse> GetToken() ABSL_LOCKS_EXCLUDED(mu_);

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

 private:
  struct Snapshot {
    agent::v1::Credentials credentials;
    server::v1::UserInfo user;
    std::vector<std::string> warnings;
  };

  // The current credentials, reloaded from the store when its fingerprint changed (a change
  // not made by this session is published as SESSION_CHANGE_FILE_CHANGED). What the load
  // found (repairs, a corrupt file moved aside) is kept for the next call a person sees, even
  // when background work did the load.
  absl::StatusOr<agent::v1::Credentials> CurrentLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // For calls that answer a person: Unauthenticated when there is no session or the server
  // refused it; the corrupt-file report if one is unreported; unreported warnings are moved to
  // *warnings.
  absl::StatusOr<agent::v1::Credentials> UsableLocked(std::vector<std::string>* warnings)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Current credentials (refreshed first if already expired) plus the user's identity: from
  // the cache when it is younger than identity_max_age_ and `verify` is false, else from a
  // userinfo round trip (which refills the cache).
  absl::StatusOr<Snapshot> Read(bool verify) ABSL_LOCKS_EXCLUDED(mu_);
  // Saves `credentials` as the session and publishes `change`.
  absl::Status SaveLocked(const agent::v1::Credentials& credentials,
                          agent::v1::SessionChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The issuer of `credentials`.
  std::string IssuerOf(const agent::v1::Credentials& credentials) const;
  // The reply for Status from what is known; both the memory path and the full path use it.
  agent::v1::GetStatusResponse StatusReplyLocked(const agent::v1::Credentials& credentials,
                                                 const server::v1::UserInfo& user,
                                                 std::vector<std::string> warnings)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Warnings every reply about the session carries: an unsaved refreshed token, a configured
  // issuer other than the session's.
  void StandingWarningsLocked(const agent::v1::Credentials& credentials,
                              std::vector<std::string>* warnings)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `credentials`' tokens for revocation at their issuer; false when they could not be.
  bool QueueRevocation(const agent::v1::Credentials& credentials, const std::string& issuer);
  // Saves a refreshed token that could not be saved before. Under the store's lock.
  void RetryUnsavedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The server refused the session whose token is `token`.
  void MarkExpiredLocked(const std::string& token, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ExpiredLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces the cached session, wiping the tokens of the one it held.
  void SetCachedLocked(agent::v1::Credentials credentials) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  agent::v1::SessionSnapshot SnapshotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishLocked(agent::v1::SessionChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time RefreshDueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleChanged() ABSL_LOCKS_EXCLUDED(listener_mu_);

  // Refreshes the access token with the refresh token. One at a time: a second caller waits
  // and then finds the token fresh. `only_if_due` skips the request when it is not due.
  absl::Status Refresh(bool only_if_due) ABSL_LOCKS_EXCLUDED(mu_, refresh_mu_);
  // Revokes the access token, then the refresh token if any (RFC 7009). Never under mu_.
  absl::Status RevokeTokens(const agent::v1::Credentials& credentials) ABSL_LOCKS_EXCLUDED(mu_);

  CredentialStore& store_;
  Issuers& issuers_;
  RevocationQueue& revocations_;
  Clock& clock_;
  const absl::Duration identity_max_age_;
  // Set once the agent holds its lock (after the server may already serve calls): guarded.
  absl::Mutex listener_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::function<void()> on_schedule_change_ ABSL_GUARDED_BY(listener_mu_);

  absl::Mutex refresh_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  std::string fingerprint_ ABSL_GUARDED_BY(mu_);
  bool loaded_once_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> unreported_warnings_ ABSL_GUARDED_BY(mu_);
  absl::Status last_load_ ABSL_GUARDED_BY(mu_);  // of the store, as of fingerprint_
  absl::Status unreported_problem_ ABSL_GUARDED_BY(mu_);
  std::optional<agent::v1::Credentials> cached_ ABSL_GUARDED_BY(mu_);
  // The token the server refused, and why; the session is expired while it is the current one.
  std::string expired_token_ ABSL_GUARDED_BY(mu_);
  std::string expired_reason_ ABSL_GUARDED_BY(mu_);
  // Transient refresh failures in a row, and when to try again (monotonic).
  int refresh_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time refresh_retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // A refreshed token that could not be saved lives in cached_ (with rotation the old refresh
  // token is already dead): used, and its save retried at unsaved_retry_at_ (monotonic).
  bool unsaved_ ABSL_GUARDED_BY(mu_) = false;
  std::string unsaved_from_token_ ABSL_GUARDED_BY(mu_);  // the token it replaced
  std::string unsaved_error_ ABSL_GUARDED_BY(mu_);
  int unsaved_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time unsaved_retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::optional<agent::v1::DeviceCode> pending_login_ ABSL_GUARDED_BY(mu_);
  // What the server last said about the session whose access token is `known_user_token_`.
  std::string known_user_token_ ABSL_GUARDED_BY(mu_);
  server::v1::UserInfo known_user_ ABSL_GUARDED_BY(mu_);
  absl::Time known_user_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // monotonic
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_H_
