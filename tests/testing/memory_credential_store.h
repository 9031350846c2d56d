// A CredentialStore in memory, with switches to make it fail.
#ifndef DATAGEN_TESTS_TESTING_MEMORY_CREDENTIAL_STORE_H_
#define DATAGEN_TESTS_TESTING_MEMORY_CREDENTIAL_STORE_H_

#include <atomic>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/store/credential_store.h"

namespace datagen::testing {

class MemoryCredentialStore final : public CredentialStore {
 public:
  absl::StatusOr<std::unique_ptr<StoreLock>> Lock() override {
    struct Held final : StoreLock {
      explicit Held(absl::Mutex* mu) : lock(mu) {}
      absl::MutexLock lock;
    };
    ++locks_;
    return std::make_unique<Held>(&update_mu_);
  }
  absl::StatusOr<agent::v1::Credentials> Load(std::vector<std::string>*) override {
    ++loads_;
    if (!load_error_.ok()) return load_error_;
    if (!stored_) return absl::NotFoundError("no credentials");
    return *stored_;
  }
  absl::Status Save(const agent::v1::Credentials& credentials) override {
    if (!save_error_.ok()) return save_error_;
    stored_ = credentials;
    ++version_;
    return absl::OkStatus();
  }
  absl::Status Remove() override {
    stored_.reset();
    ++version_;
    return absl::OkStatus();
  }
  std::string Fingerprint() override { return stored_ ? absl::StrCat("v", version_) : "absent"; }

  // Test controls. "Behind the agent's back" edits go through Put.
  void Put(const agent::v1::Credentials& credentials) {
    stored_ = credentials;
    ++version_;
  }
  const std::optional<agent::v1::Credentials>& stored() const { return stored_; }
  void set_load_error(absl::Status s) { load_error_ = std::move(s); }
  void set_save_error(absl::Status s) { save_error_ = std::move(s); }
  int loads() const { return loads_; }
  int locks() const { return locks_; }

 private:
  std::optional<agent::v1::Credentials> stored_;
  int version_ = 0;
  int loads_ = 0;
  std::atomic<int> locks_{0};
  absl::Mutex update_mu_;
  absl::Status load_error_;
  absl::Status save_error_;
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_MEMORY_CREDENTIAL_STORE_H_
