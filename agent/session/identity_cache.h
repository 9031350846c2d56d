// What the server last said about whom a session's token belongs to, and when (monotonic for
// the staleness bound, wall time for people), so that Status and ListOrgs answer without a round
// trip: as confirmed while that is younger than the staleness bound, and marked unverified (with
// the time of the last confirmation) after it, while the agent asks again in the background.
// Also keeps why the last attempt to confirm it could not reach the server.
//
// Not thread-safe: its owner (Session) calls it under its own lock. Wipes the token it holds
// (secret_memory.h).
#ifndef DATAGEN_AGENT_SESSION_IDENTITY_CACHE_H_
#define DATAGEN_AGENT_SESSION_IDENTITY_CACHE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/datagen/server/v1/server_api.pb.h"

namespace datagen {

class IdentityCache {
 public:
  // `max_age` zero: nothing is ever fresh (every answer asks the server).
  explicit IdentityCache(absl::Duration max_age) : max_age_(max_age) {}
  ~IdentityCache();
  IdentityCache(const IdentityCache&) = delete;
  IdentityCache& operator=(const IdentityCache&) = delete;

  // The server said, at `mono_now` (`wall_now` on the wall clock), that `token` belongs to
  // `user`. Clears unreachable().
  void Remember(const std::string& token, server::v1::UserInfo user, absl::Time mono_now,
                absl::Time wall_now);
  // The identity known for `token` while younger than the bound at `mono_now`; else nullptr.
  const server::v1::UserInfo* Fresh(absl::string_view token, absl::Time mono_now) const;
  // The identity known for `token` whatever its age; nullptr when none is (another token, or
  // forgotten).
  const server::v1::UserInfo* Known(absl::string_view token) const;
  // When the server last confirmed it (wall clock); InfinitePast when nothing is known.
  absl::Time confirmed_at() const { return wall_at_; }
  // An attempt to confirm it again could not reach the server, for `why`; kept until the next
  // Remember or Forget. "" when the last attempt did not fail that way.
  void NoteUnreachable(std::string why) { unreachable_ = std::move(why); }
  const std::string& unreachable() const { return unreachable_; }
  // A refresh replaced `from` with `to` for the same user: what is known carries over, as old
  // as it was.
  void Rekey(absl::string_view from, const std::string& to);
  // Forgets everything (signed out, or the server refused the token).
  void Forget();

 private:
  const absl::Duration max_age_;
  std::string token_;
  server::v1::UserInfo user_;
  absl::Time at_ = absl::InfinitePast();
  absl::Time wall_at_ = absl::InfinitePast();
  std::string unreachable_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_IDENTITY_CACHE_H_
