// What the server last said about whom a session's token belongs to, and when (monotonic), so
// that Status and ListOrgs answer without a round trip while that is younger than the staleness
// bound (a revoked token is noticed within it).
//
// Not thread-safe: its owner (Session) calls it under its own lock. Wipes the token it holds
// (secret_memory.h).
#ifndef DATAGEN_AGENT_IDENTITY_CACHE_H_
#define DATAGEN_AGENT_IDENTITY_CACHE_H_

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

  // The server said, at `mono_now`, that `token` belongs to `user`.
  void Remember(const std::string& token, server::v1::UserInfo user, absl::Time mono_now);
  // The identity known for `token` while younger than the bound at `mono_now`; else nullptr.
  const server::v1::UserInfo* Fresh(absl::string_view token, absl::Time mono_now) const;
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
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_IDENTITY_CACHE_H_
