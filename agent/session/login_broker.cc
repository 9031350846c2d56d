#include "agent/session/login_broker.h"

#include <pthread.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/common/log.h"
#include "agent/http/url.h"
#include "agent/oauth/device_flow.h"

namespace datagen {
namespace {

std::string HostOf(const std::string& url) {
  absl::StatusOr<ParsedUrl> parsed = ParseUrl(url);
  return parsed.ok() ? parsed->host : "";
}

}  // namespace

LoginBroker::LoginBroker(Issuers& issuers, Clock& clock, Random& random, Session& session,
                         std::string scope)
    : issuers_(issuers),
      clock_(clock),
      random_(random),
      session_(session),
      scope_(std::move(scope)) {}

LoginBroker::~LoginBroker() { Shutdown(); }

void LoginBroker::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  if (current_) current_->cancel.Notify();
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_threads_ == 0; };
  mu_.Await(absl::Condition(&idle));
}

uint64_t LoginBroker::Attach(Listener* listener, const std::string& issuer_url) {
  const std::string issuer = issuers_.Resolve(issuer_url);
  absl::MutexLock lock(&mu_);
  uint64_t handle = next_handle_++;
  if (shutting_down_) {
    listener->OnLoginDone(absl::UnavailableError("the agent is shutting down"));
    return handle;
  }
  if (current_ && current_->issuer != issuer) {
    listener->OnLoginDone(
        absl::FailedPreconditionError(absl::StrCat("a login at ", current_->issuer,
                                                   " is in progress; finish or cancel it "
                                                   "before signing in at ",
                                                   issuer)));
    return handle;
  }
  if (!current_) {
    current_ = std::make_shared<Attempt>();
    current_->issuer = issuer;
    ++running_threads_;
    std::thread([this, attempt = current_] {
      pthread_setname_np(pthread_self(), "dg-login");
      Run(attempt);
    }).detach();
    LogInfo("login: started");
  } else {
    LogInfo("login: another caller joined the login in progress");
  }
  current_->listeners[handle] = listener;
  attached_[handle] = current_;
  if (current_->code) listener->OnDeviceCode(*current_->code);
  return handle;
}

void LoginBroker::Detach(uint64_t handle) {
  std::function<void()> inactive;
  {
    absl::MutexLock lock(&mu_);
    auto it = attached_.find(handle);
    if (it == attached_.end()) return;
    std::shared_ptr<Attempt> attempt = it->second;
    attached_.erase(it);
    attempt->listeners.erase(handle);
    if (attempt->listeners.empty() && !attempt->cancel.HasBeenNotified()) {
      LogInfo("login: every caller went away; cancelling it");
      attempt->cancel.Notify();
      if (current_ == attempt) {
        current_.reset();  // a new caller starts afresh
        inactive = inactive_listener_;
      }
    }
  }
  if (inactive) inactive();
}

void LoginBroker::SetInactiveListener(std::function<void()> listener) {
  absl::MutexLock lock(&mu_);
  inactive_listener_ = std::move(listener);
}

bool LoginBroker::active() {
  absl::MutexLock lock(&mu_);
  return current_ != nullptr;
}

void LoginBroker::Run(std::shared_ptr<Attempt> attempt) {
  absl::StatusOr<agent::v1::LoginResult> result = [&]() -> absl::StatusOr<agent::v1::LoginResult> {
    std::shared_ptr<Issuer> issuer = issuers_.For(attempt->issuer);
    absl::StatusOr<Endpoints> endpoints = issuer->discovery.Get();
    if (!endpoints.ok()) return endpoints.status();
    DeviceFlow flow(issuers_.transport(), clock_, random_, *std::move(endpoints),
                    issuers_.client_id(), scope_);
    absl::StatusOr<DeviceAuthorization> authorization = flow.Start(&attempt->cancel);
    if (!authorization.ok()) return authorization.status();
    {
      agent::v1::DeviceCode code;
      code.set_user_code(authorization->user_code);
      code.set_verification_uri(authorization->verification_uri);
      code.set_verification_uri_complete(authorization->verification_uri_complete);
      code.set_verification_host(HostOf(authorization->verification_uri));
      code.set_issuer_host(HostOf(issuer->discovery.issuer()));
      code.set_expires_in(
          static_cast<int32_t>(absl::ToInt64Seconds(authorization->deadline - clock_.BootTime())));
      code.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(authorization->expires_at));
      session_.NoteLoginPending(code);  // watchers learn of it too
      absl::MutexLock lock(&mu_);
      attempt->code = code;
      for (auto& [handle, listener] : attempt->listeners) listener->OnDeviceCode(code);
    }
    absl::StatusOr<IssuedTokens> tokens = flow.Run(attempt->cancel);
    if (!tokens.ok()) return tokens.status();
    // Approved: store it even if every caller left meanwhile; the user did confirm.
    return session_.CompleteLogin(*tokens, attempt->issuer);
  }();
  // A login its last caller left ends as cancelled, whatever the request the cancel cut short
  // said (a poll in flight fails with its transport's own words).
  if (!result.ok() && attempt->cancel.HasBeenNotified()) {
    result = absl::CancelledError("the login was cancelled");
  }
  if (!result.ok()) {
    LogInfo("login: ended: %s", result.status().message());
    session_.NoteLoginEnded();
  }
  Finish(*attempt, result);
}

void LoginBroker::Finish(Attempt& attempt, const absl::StatusOr<agent::v1::LoginResult>& result) {
  std::function<void()> inactive;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [handle, listener] : attempt.listeners) {
      listener->OnLoginDone(result);
      attached_.erase(handle);
    }
    attempt.listeners.clear();
    if (current_.get() == &attempt) {
      current_.reset();
      inactive = inactive_listener_;
    }
  }
  // Still counted as running: Shutdown waits for the listener too.
  if (inactive) inactive();
  absl::MutexLock lock(&mu_);
  --running_threads_;
}

}  // namespace datagen
