// An HttpTransport that aborts every exchange without a cancel of its own when its owner stops,
// so that a process shutting down never waits out a hanging server's timeout (background
// refreshes, confirmations and revocations carry no cancel; a login carries its own, which its
// broker notifies when it stops).
//
// Thread-safe. Does not own the inner transport or the notification, which must outlive it.
#ifndef DATAGEN_AGENT_HTTP_STOPPABLE_HTTP_TRANSPORT_H_
#define DATAGEN_AGENT_HTTP_STOPPABLE_HTTP_TRANSPORT_H_

#include "absl/synchronization/notification.h"
#include "agent/http/http_transport.h"

namespace datagen {

class StoppableHttpTransport final : public HttpTransport {
 public:
  StoppableHttpTransport(HttpTransport& inner, const absl::Notification& stopping)
      : inner_(inner), stopping_(stopping) {}

  // Cancelled at once when stopping; else the inner Send, cancelled by `stopping` unless the
  // request has its own cancel.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    if (stopping_.HasBeenNotified()) return absl::CancelledError("the agent is stopping");
    if (request.cancel != nullptr) return inner_.Send(request);
    HttpRequest stoppable = request;
    stoppable.cancel = &stopping_;
    return inner_.Send(stoppable);
  }

 private:
  HttpTransport& inner_;
  const absl::Notification& stopping_;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_HTTP_STOPPABLE_HTTP_TRANSPORT_H_
