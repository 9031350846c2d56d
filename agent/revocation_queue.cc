#include "agent/revocation_queue.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/atomic_file.h"
#include "agent/json.h"
#include "agent/log.h"
#include "agent/paths.h"
#include "agent/proto_time.h"
#include "agent/token_reply.h"

namespace datagen {
namespace {

constexpr absl::Duration kFirstRetry = absl::Seconds(5);
constexpr absl::Duration kMaxRetry = absl::Minutes(10);
constexpr size_t kMaxFileBytes = 1 << 20;

}  // namespace

RevocationQueue::RevocationQueue(std::string path, uid_t uid, Clock& clock)
    : path_(std::move(path)), uid_(uid), clock_(clock) {
  std::vector<std::string> repaired;  // logged by ReadPrivateFile
  absl::StatusOr<std::string> content =
      ReadPrivateFile(path_, "the pending revocations file", uid_, kMaxFileBytes, &repaired);
  if (absl::IsNotFound(content.status())) return;
  if (!content.ok()) {
    LogWarning("ignoring the pending revocations: %s", content.status().message());
    return;
  }
  if (content->empty()) return;
  absl::MutexLock lock(&mu_);
  if (!ParseJson(*content, "the pending revocations file", &queue_).ok()) {
    std::string aside = absl::StrCat(path_, ".corrupt-", absl::ToUnixSeconds(clock_.Now()));
    rename(path_.c_str(), aside.c_str());
    LogWarning("the pending revocations file was corrupt; kept as %s", aside);
    queue_.Clear();
    return;
  }
  // Drop entries that are not tokens at all.
  auto* items = queue_.mutable_items();
  items->erase(std::remove_if(items->begin(), items->end(),
                              [](const auto& item) { return !IsTokenText(item.token()); }),
               items->end());
  if (queue_.items_size() > 0) {
    LogInfo("%d token(s) still await revocation at the server", queue_.items_size());
  }
}

absl::Status RevocationQueue::PersistLocked() {
  if (queue_.items_size() == 0) return RemoveFileDurably(path_);
  if (absl::Status dir = EnsurePrivateDir(Dirname(path_), uid_, LooseFolder::kTighten); !dir.ok()) {
    return dir;
  }
  return WriteFileAtomically(path_, ToPrettyJson(queue_) + "\n");
}

absl::Status RevocationQueue::Add(const std::vector<std::pair<std::string, std::string>>& tokens) {
  absl::MutexLock lock(&mu_);
  agent::internal::PendingRevocations before = queue_;
  for (const auto& [token, hint] : tokens) {
    agent::internal::PendingRevocation* item = queue_.add_items();
    item->set_token(token);
    item->set_token_type_hint(hint);
    SetTime(clock_.Now(), item->mutable_next_attempt_at());
  }
  absl::Status persisted = PersistLocked();
  if (!persisted.ok()) queue_ = std::move(before);
  return persisted;
}

void RevocationQueue::Remove(const std::vector<std::string>& tokens) {
  absl::MutexLock lock(&mu_);
  auto* items = queue_.mutable_items();
  items->erase(std::remove_if(items->begin(), items->end(),
                              [&](const auto& item) {
                                return std::find(tokens.begin(), tokens.end(), item.token()) !=
                                       tokens.end();
                              }),
               items->end());
  if (absl::Status s = PersistLocked(); !s.ok()) {
    LogWarning("could not update the pending revocations: %s", s.message());
  }
}

int RevocationQueue::size() {
  absl::MutexLock lock(&mu_);
  return queue_.items_size();
}

bool RevocationQueue::Contains(absl::string_view token) {
  absl::MutexLock lock(&mu_);
  for (const auto& item : queue_.items()) {
    if (item.token() == token) return true;
  }
  return false;
}

absl::Time RevocationQueue::NextDue() {
  absl::MutexLock lock(&mu_);
  absl::Time next = absl::InfiniteFuture();
  for (const auto& item : queue_.items()) next = std::min(next, ToTime(item.next_attempt_at()));
  return next;
}

int RevocationQueue::RetryDue(IdentityClient& identity) {
  std::vector<agent::internal::PendingRevocation> due;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_.Now();
    for (const auto& item : queue_.items()) {
      if (ToTime(item.next_attempt_at()) <= now) due.push_back(item);
    }
  }
  if (due.empty()) return size();
  std::vector<std::string> done;
  std::vector<std::string> failed;
  for (const auto& item : due) {
    absl::Status revoked = identity.Revoke(item.token(), item.token_type_hint());
    if (revoked.ok()) {
      LogInfo("a pending revocation was accepted by the server");
      done.push_back(item.token());
    } else if (absl::IsUnavailable(revoked)) {
      failed.push_back(item.token());
    } else {
      LogWarning("giving up a pending revocation the server refuses: %s", revoked.message());
      done.push_back(item.token());
    }
  }
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  auto* items = queue_.mutable_items();
  for (auto& item : *items) {
    if (std::find(failed.begin(), failed.end(), item.token()) == failed.end()) continue;
    item.set_attempts(item.attempts() + 1);
    absl::Duration wait = kFirstRetry;
    for (int i = 1; i < item.attempts() && wait < kMaxRetry; ++i) wait *= 2;
    SetTime(now + std::min(wait, kMaxRetry), item.mutable_next_attempt_at());
  }
  items->erase(std::remove_if(items->begin(), items->end(),
                              [&](const auto& item) {
                                return std::find(done.begin(), done.end(), item.token()) !=
                                       done.end();
                              }),
               items->end());
  if (absl::Status s = PersistLocked(); !s.ok()) {
    LogWarning("could not update the pending revocations: %s", s.message());
  }
  return queue_.items_size();
}

}  // namespace datagen
