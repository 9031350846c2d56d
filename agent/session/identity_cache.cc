#include "agent/session/identity_cache.h"

#include <utility>

#include "agent/common/secret_memory.h"

namespace datagen {

IdentityCache::~IdentityCache() { WipeString(&token_); }

void IdentityCache::Remember(const std::string& token, server::v1::UserInfo user,
                             absl::Time mono_now, absl::Time wall_now) {
  ReplaceSecret(&token_, token);
  user_ = std::move(user);
  at_ = mono_now;
  wall_at_ = wall_now;
  unreachable_.clear();
}

const server::v1::UserInfo* IdentityCache::Known(absl::string_view token) const {
  if (token_.empty() || token != token_) return nullptr;
  return &user_;
}

const server::v1::UserInfo* IdentityCache::Fresh(absl::string_view token,
                                                 absl::Time mono_now) const {
  if (mono_now - at_ >= max_age_) return nullptr;
  return Known(token);
}

void IdentityCache::Rekey(absl::string_view from, const std::string& to) {
  if (!token_.empty() && token_ == from) ReplaceSecret(&token_, to);
}

void IdentityCache::Forget() {
  WipeString(&token_);
  user_.Clear();
  at_ = absl::InfinitePast();
  wall_at_ = absl::InfinitePast();
  unreachable_.clear();
}

}  // namespace datagen
