// One device-flow login at a time, shared by every caller: the first caller starts it, later
// callers attach to it and get the same code and the same result, a caller that goes away
// detaches, and a login whose callers are all gone is cancelled.
#ifndef DATAGEN_AGENT_SESSION_LOGIN_BROKER_H_
#define DATAGEN_AGENT_SESSION_LOGIN_BROKER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "agent/common/clock.h"
#include "agent/common/random.h"
#include "agent/oauth/issuers.h"
#include "agent/session/session.h"
#include "proto/datagen/agent/v1/agent.pb.h"

namespace datagen {

// Thread-safe. Each login runs on a thread of its own, so a slow or hanging server delays only
// the login, never other calls. Does not own its collaborators, which must outlive it.
class LoginBroker {
 public:
  // Receives one login's events. Called with the broker's lock held: implementations must not
  // block and must not call back into the broker.
  class Listener {
   public:
    virtual ~Listener() = default;
    // The code to show; sent at most once, at once on Attach if the code is already known.
    virtual void OnDeviceCode(const agent::v1::DeviceCode& code) = 0;
    // The login's end (the listener is detached after it).
    virtual void OnLoginDone(const absl::StatusOr<agent::v1::LoginResult>& result) = 0;
  };

  // `random`: the jitter of each flow's backoff; not owned.
  LoginBroker(Issuers& issuers, Clock& clock, Random& random, Session& session, std::string scope);
  // Shutdown.
  ~LoginBroker();

  // Cancels a login in progress and waits for its thread; later Attaches end at once with
  // Unavailable. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // Attaches `listener` (not owned; must stay valid until Detach returns or OnLoginDone was
  // called) to the login in progress, starting one at `issuer` ("": the configured issuer) if
  // none is. A login in progress at another issuer ends the listener at once with
  // FailedPrecondition (one login at a time). Returns a handle for Detach.
  uint64_t Attach(Listener* listener, const std::string& issuer = "") ABSL_LOCKS_EXCLUDED(mu_);

  // Detaches; once it returns, the listener gets no more calls. Cancels the login when it was
  // the last listener. Idempotent.
  void Detach(uint64_t handle) ABSL_LOCKS_EXCLUDED(mu_);

  // True while a login is in progress (for status and tests).
  bool active() ABSL_LOCKS_EXCLUDED(mu_);

  // `listener` (may be empty) is called each time active() turns false: a login ended, or was
  // cancelled by its last caller leaving. Called without the broker's lock, on the login's
  // thread or the leaving caller's, before Shutdown can return; it may call active().
  void SetInactiveListener(std::function<void()> listener) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Attempt {
    std::string issuer;
    absl::Notification cancel;
    std::optional<agent::v1::DeviceCode> code;
    std::map<uint64_t, Listener*> listeners;
  };

  void Run(std::shared_ptr<Attempt> attempt) ABSL_LOCKS_EXCLUDED(mu_);
  void Finish(Attempt& attempt, const absl::StatusOr<agent::v1::LoginResult>& result)
      ABSL_LOCKS_EXCLUDED(mu_);

  Issuers& issuers_;
  Clock& clock_;
  Random& random_;
  Session& session_;
  const std::string scope_;

  absl::Mutex mu_;
  std::shared_ptr<Attempt> current_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Attempt>> attached_ ABSL_GUARDED_BY(mu_);
  uint64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;
  int running_threads_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> inactive_listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_SESSION_LOGIN_BROKER_H_
