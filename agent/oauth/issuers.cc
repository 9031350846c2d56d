#include "agent/oauth/issuers.h"

#include "absl/strings/strip.h"

namespace datagen {

Issuers::Issuers(HttpTransport& transport, std::string client_id, std::string configured)
    : transport_(transport), client_id_(std::move(client_id)), configured_(Canonical(configured)) {}

std::string Issuers::Canonical(absl::string_view url) {
  absl::ConsumeSuffix(&url, "/");
  return std::string(url);
}

std::string Issuers::Resolve(absl::string_view url) const {
  return url.empty() ? configured_ : Canonical(url);
}

std::string Issuers::OfRecord(absl::string_view url) const {
  if (!url.empty()) return Canonical(url);
  return configured_ == kDefaultIssuer ? configured_ : "";
}

std::shared_ptr<Issuer> Issuers::For(absl::string_view url) {
  std::string key = Canonical(url);
  absl::MutexLock lock(&mu_);
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (it->first == key) {
      kept_.splice(kept_.begin(), kept_, it);
      return kept_.front().second;
    }
  }
  kept_.emplace_front(key, std::make_shared<Issuer>(transport_, key, client_id_));
  if (kept_.size() > kMaxKept) kept_.pop_back();
  return kept_.front().second;
}

}  // namespace datagen
