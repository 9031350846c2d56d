#include "agent/rpc/stream_reactors.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/rpc/call_reply.h"
#include "agent/runtime/bounded_queue.h"

namespace datagen {
namespace {

constexpr size_t kMaxIssuerUrl = 2048;

// A server stream that writes queued events one at a time (one write in flight, as gRPC's
// callback API requires), finishes exactly once, and deletes itself when gRPC is done with
// it. A subclass feeds it events (Enqueue, Close) from any thread and detaches from its source
// in Detach, which runs when the caller goes away and when the stream is done.
template <typename Event>
class QueuedStream : public grpc::ServerWriteReactor<Event> {
 public:
  QueuedStream(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
               Activity& activity, size_t max_queued)
      : context_(context), activity_(activity), queue_(max_queued) {
    MarkReply(context, info);
    activity_.Begin();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {  // the caller is gone
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away"));
      return;
    }
    PumpLocked();
  }
  void OnCancel() override {
    Detach();  // before taking mu_: sources call Enqueue with their own lock held
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away"));
  }
  void OnDone() override {
    Detach();
    activity_.End();
    delete this;
  }

 protected:
  // Must stop the source's calls into this stream before returning. Idempotent.
  virtual void Detach() = 0;

  // Queues an event; beyond max_queued the oldest queued one is dropped.
  void Enqueue(Event event) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (finished_ || closing_) return;
    queue_.Push(std::move(event));
    PumpLocked();
  }
  // Ends the stream with `status` (its reason in the trailers) once the queued events are
  // written.
  void Close(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    final_status_ = status;
    PumpLocked();
  }

 private:
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      writing_ = true;
      in_flight_ = queue_.Pop();  // the queue may be trimmed during the write
      this->StartWrite(&in_flight_);
    } else if (closing_) {
      FinishLocked(Reply(context_, final_status_));  // no write in flight: trailers are ours
    }
  }
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    this->Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  Activity& activity_;
  absl::Mutex mu_;
  BoundedQueue<Event> queue_ ABSL_GUARDED_BY(mu_);
  Event in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// One caller of Login: attached to the shared login, it streams the device code and then the
// result.
class LoginReactor final : public QueuedStream<agent::v1::LoginEvent>,
                           public LoginBroker::Listener {
 public:
  LoginReactor(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
               absl::StatusOr<Profile*> profile, Activity& activity, std::string issuer)
      : QueuedStream(context, info, activity, /*max_queued=*/4),
        broker_(profile.ok() ? &(*profile)->broker() : nullptr) {
    if (!profile.ok()) {
      OnLoginDone(profile.status());
      return;
    }
    // No issuer named: the one the profile's session was issued by, else the configured one.
    if (issuer.empty()) issuer = (*profile)->session().LoginIssuer();
    if (issuer.size() > kMaxIssuerUrl ||
        !std::all_of(issuer.begin(), issuer.end(),
                     [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
      OnLoginDone(absl::InvalidArgumentError(
          "api_url must be an issuer URL of at most 2048 printable characters"));
      return;
    }
    handle_ = broker_->Attach(this, issuer);
  }

  // LoginBroker::Listener (called with the broker's lock held; never blocks).
  void OnDeviceCode(const agent::v1::DeviceCode& code) override {
    agent::v1::LoginEvent event;
    *event.mutable_device_code() = code;
    Enqueue(std::move(event));
  }
  void OnLoginDone(const absl::StatusOr<agent::v1::LoginResult>& result) override {
    if (result.ok()) {
      agent::v1::LoginEvent event;
      *event.mutable_result() = *result;
      Enqueue(std::move(event));
    }
    Close(result.status());
  }

 private:
  void Detach() override {
    if (broker_ != nullptr) broker_->Detach(handle_);
  }

  LoginBroker* const broker_;  // null when the profile could not be loaded
  uint64_t handle_ = 0;
};

// One watcher: the session's events until the caller cancels (or the server shuts down), of one
// profile or of every profile (each one loaded later too). A watcher that reads too slowly loses
// its oldest queued events (it sees the jump in generation numbers), so it never costs unbounded
// memory.
class WatchReactor final : public QueuedStream<agent::v1::WatchEvent>, public Session::Watcher {
 public:
  WatchReactor(grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
               ProfileSet& profiles, const agent::v1::WatchRequest& request, Activity& activity)
      : QueuedStream(context, info, activity, /*max_queued=*/64), profiles_(profiles) {
    if (request.all_profiles()) {
      all_ = true;
      listener_ = profiles_.AddLoadListener([this](Profile& profile) {
        uint64_t handle = profile.session().AddWatcher(this);
        absl::MutexLock lock(&watches_mu_);
        watches_.emplace_back(&profile.session(), handle);
      });
      return;
    }
    absl::StatusOr<Profile*> profile = profiles_.Load(request.profile(), /*create=*/true);
    if (!profile.ok()) {
      Close(profile.status());
      return;
    }
    uint64_t handle = (*profile)->session().AddWatcher(this);
    absl::MutexLock lock(&watches_mu_);
    watches_.emplace_back(&(*profile)->session(), handle);
  }

  // Session::Watcher (called with the session's lock held; never blocks).
  void OnSessionEvent(const agent::v1::WatchEvent& event) override { Enqueue(event); }

 private:
  void Detach() override {
    if (all_) profiles_.RemoveLoadListener(listener_);  // no profile is added after this
    std::vector<std::pair<Session*, uint64_t>> watches;
    {
      absl::MutexLock lock(&watches_mu_);
      watches.swap(watches_);
    }
    for (auto& [session, handle] : watches) session->RemoveWatcher(handle);
  }

  ProfileSet& profiles_;
  bool all_ = false;        // set in the constructor, before gRPC can call Detach
  uint64_t listener_ = 0;   // likewise
  absl::Mutex watches_mu_;  // guards watches_; never held while calling into a session
  std::vector<std::pair<Session*, uint64_t>> watches_ ABSL_GUARDED_BY(watches_mu_);
};

}  // namespace

grpc::ServerWriteReactor<agent::v1::LoginEvent>* NewLoginStream(
    grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info,
    absl::StatusOr<Profile*> profile, Activity& activity, std::string issuer) {
  return new LoginReactor(context, info, std::move(profile), activity, std::move(issuer));
}

grpc::ServerWriteReactor<agent::v1::WatchEvent>* NewWatchStream(
    grpc::CallbackServerContext* context, const agent::v1::AgentInfo& info, ProfileSet& profiles,
    const agent::v1::WatchRequest& request, Activity& activity) {
  return new WatchReactor(context, info, profiles, request, activity);
}

}  // namespace datagen
