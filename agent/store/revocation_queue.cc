#include "agent/store/revocation_queue.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "agent/common/backoff.h"
#include "agent/common/json.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/common/proto_time.h"
#include "agent/common/secret_memory.h"
#include "agent/common/text.h"
#include "agent/store/atomic_file.h"
#include "agent/store/file_lock.h"

namespace datagen {
namespace {

constexpr absl::Duration kFirstRetry = absl::Seconds(5);
constexpr absl::Duration kMaxRetry = absl::Minutes(10);
constexpr size_t kMaxFileBytes = 1 << 20;

// Wipes every token the queue holds (secret_memory.h), then empties it.
void WipeQueue(agent::internal::PendingRevocations& queue) {
  for (auto& item : *queue.mutable_items()) WipeString(item.mutable_token());
  queue.Clear();
}

void EraseTokens(agent::internal::PendingRevocations& queue,
                 const std::vector<std::string>& tokens) {
  auto* items = queue.mutable_items();
  auto erased = std::stable_partition(items->begin(), items->end(), [&](const auto& item) {
    return std::find(tokens.begin(), tokens.end(), item.token()) == tokens.end();
  });
  for (auto it = erased; it != items->end(); ++it) WipeString(it->mutable_token());
  items->erase(erased, items->end());
}

}  // namespace

bool RevocationQueue::WorthRetrying(const absl::Status& revoked) {
  return absl::IsUnavailable(revoked) || absl::IsInternal(revoked) || absl::IsCancelled(revoked);
}

absl::Duration RevocationQueue::RetryDelay(int attempts) {
  return FullJitter(ExponentialBackoff(attempts, kFirstRetry, kMaxRetry), random_,
                    absl::Seconds(1));
}

RevocationQueue::RevocationQueue(std::string path, uid_t uid, Clock& clock, Random& random)
    : path_(std::move(path)),
      lock_path_(PendingRevocationsLockFile(path_)),  // beside it, as beside the credentials
      uid_(uid),
      clock_(clock),
      random_(random) {
  Reload();
  absl::MutexLock lock(&mu_);
  if (queue_.items_size() > 0) {
    LogInfo("%d token(s) still await revocation at the server", queue_.items_size());
  }
}

absl::Status RevocationQueue::ReadLocked() {
  std::vector<std::string> repaired;  // logged by ReadPrivateFile
  absl::StatusOr<std::string> content =
      ReadPrivateFile(path_, "the pending revocations file", uid_, kMaxFileBytes, &repaired);
  agent::internal::PendingRevocations read;
  if (absl::IsNotFound(content.status())) {
    WipeQueue(queue_);
    return absl::OkStatus();
  }
  absl::Cleanup wipe = [&content] {
    if (content.ok()) WipeString(&*content);
  };
  if (!content.ok() && !absl::IsOutOfRange(content.status())) return content.status();
  if (!content.ok() ||
      (!content->empty() && !ParseJson(*content, "the pending revocations file", &read).ok())) {
    absl::StatusOr<std::string> aside = MoveCorruptFileAside(
        path_, "the pending revocations file",
        content.ok() ? absl::string_view("it is not a valid queue") : content.status().message(),
        clock_.Now());
    if (!aside.ok()) return aside.status();
  }
  // Entries that are not tokens at all are dropped.
  auto* items = read.mutable_items();
  items->erase(std::remove_if(items->begin(), items->end(),
                              [](const auto& item) { return !IsTokenText(item.token()); }),
               items->end());
  WipeQueue(queue_);
  queue_ = std::move(read);
  return absl::OkStatus();
}

absl::Status RevocationQueue::WriteLocked() {
  if (queue_.items_size() == 0) return RemoveFileDurably(path_);
  std::string content = ToPrettyJson(queue_) + "\n";
  absl::Status written = WriteFileAtomically(path_, content);
  WipeString(&content);
  return written;
}

void RevocationQueue::Reload() {
  absl::MutexLock lock(&mu_);
  if (absl::Status read = ReadLocked(); !read.ok()) {
    LogWarning("cannot read the pending revocations (%s); the file is left as it is",
               read.message());
  }
}

absl::Status RevocationQueue::Update(
    const std::function<void(agent::internal::PendingRevocations&)>& change) {
  if (absl::Status dir = EnsurePrivateDir(Dirname(path_), uid_, LooseFolder::kTighten); !dir.ok()) {
    return dir;
  }
  absl::StatusOr<FileLock> file_lock = FileLock::Acquire(lock_path_);
  if (!file_lock.ok()) return file_lock.status();
  absl::MutexLock lock(&mu_);
  // Never overwrite what cannot be read: another agent's entries may be in it.
  if (absl::Status read = ReadLocked(); !read.ok()) return read;
  agent::internal::PendingRevocations before = queue_;
  change(queue_);
  absl::Status written = WriteLocked();
  if (!written.ok()) queue_ = std::move(before);
  return written;
}

absl::Status RevocationQueue::Add(const std::vector<Token>& tokens) {
  return Update([&](agent::internal::PendingRevocations& queue) {
    for (const Token& t : tokens) {
      agent::internal::PendingRevocation* item = queue.add_items();
      item->set_token(t.token);
      item->set_token_type_hint(t.hint);
      item->set_api_url(t.api_url);
      SetTime(clock_.Now(), item->mutable_next_attempt_at());
    }
  });
}

void RevocationQueue::Remove(const std::vector<std::string>& tokens) {
  absl::Status updated =
      Update([&](agent::internal::PendingRevocations& queue) { EraseTokens(queue, tokens); });
  if (!updated.ok()) LogWarning("could not update the pending revocations: %s", updated.message());
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
  for (const auto& item : queue_.items()) {
    auto due = next_due_.find(item.token());
    next = std::min(next, due == next_due_.end() ? absl::InfinitePast() : due->second);
  }
  return next;
}

int RevocationQueue::RetryDue(const Revoke& revoke) {
  std::vector<Token> due;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_.BootTime();
    for (const auto& item : queue_.items()) {
      auto next = next_due_.find(item.token());
      if (next == next_due_.end() || next->second <= now) {
        due.push_back({item.token(), item.token_type_hint(), item.api_url()});
      }
    }
  }
  if (due.empty()) return size();
  std::vector<std::string> done;
  std::map<std::string, bool> failed;
  for (const Token& token : due) {
    absl::Status revoked = revoke(token);
    if (revoked.ok()) {
      LogInfo("a pending revocation was accepted by the server");
      done.push_back(token.token);
    } else if (WorthRetrying(revoked)) {
      failed[token.token] = true;
    } else {
      LogWarning("giving up a pending revocation the server refuses: %s", revoked.message());
      done.push_back(token.token);
    }
  }
  absl::Status updated = Update([&](agent::internal::PendingRevocations& queue) {
    auto* items = queue.mutable_items();
    for (auto& item : *items) {
      if (failed.count(item.token()) == 0) continue;
      item.set_attempts(item.attempts() + 1);
      SetTime(clock_.Now(), item.mutable_next_attempt_at());
    }
    EraseTokens(queue, done);
  });
  if (!updated.ok()) LogWarning("could not update the pending revocations: %s", updated.message());
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_.BootTime();
  for (const auto& item : queue_.items()) {
    if (failed.count(item.token()) > 0) {
      next_due_[item.token()] = now + RetryDelay(item.attempts());
    }
  }
  for (const std::string& token : done) {
    // Settled; but while the file cannot be updated it is still listed: not again at once.
    if (updated.ok()) {
      next_due_.erase(token);
    } else {
      next_due_[token] = now + RetryDelay(1);
    }
  }
  return queue_.items_size();
}

}  // namespace datagen
