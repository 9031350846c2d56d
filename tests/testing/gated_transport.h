// Scripted HTTP whose requests to one URL (the token endpoint, by default) wait until the test
// opens the gate, or the request is cancelled: so that a login stays in progress for as long as
// a test needs it to.
#ifndef DATAGEN_TESTS_TESTING_GATED_TRANSPORT_H_
#define DATAGEN_TESTS_TESTING_GATED_TRANSPORT_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "agent/http/http_transport.h"
#include "tests/testing/fake_http_transport.h"
#include "tests/testing/identity_server.h"

namespace datagen::testing {

// Thread-safe. Does not own `inner`.
class GatedTransport final : public HttpTransport {
 public:
  explicit GatedTransport(FakeHttpTransport& inner, std::string gated_url = kTokenEndpoint)
      : inner_(inner), gated_url_(std::move(gated_url)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    if (request.url == gated_url_) {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return open_ || (request.cancel != nullptr && request.cancel->HasBeenNotified());
      };
      while (!ready()) mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(5));
      --waiting_;
      if (!open_) return absl::CancelledError("cancelled");
    }
    return inner_.Send(request);
  }
  // From now on, requests pass (to the scripted replies).
  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // From now on, requests wait again.
  void Close() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  // Waits until a request is held at the gate / until none is.
  void AwaitPoll() {
    absl::MutexLock lock(&mu_);
    auto polling = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_ > 0; };
    mu_.Await(absl::Condition(&polling));
  }
  void AwaitNoPoll() {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_ == 0; };
    mu_.Await(absl::Condition(&idle));
  }

 private:
  FakeHttpTransport& inner_;
  const std::string gated_url_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_GATED_TRANSPORT_H_
