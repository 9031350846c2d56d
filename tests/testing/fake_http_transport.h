// An HttpTransport that answers from a script and records every request.
#ifndef DATAGEN_TESTS_TESTING_FAKE_HTTP_TRANSPORT_H_
#define DATAGEN_TESTS_TESTING_FAKE_HTTP_TRANSPORT_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/http/http_transport.h"

namespace datagen::testing {

// Thread-safe. For each URL, queued replies are served in order; the last one repeats. A URL
// with nothing scripted answers 404.
class FakeHttpTransport final : public HttpTransport {
 public:
  // Queues a reply (status + body) for `url`.
  void Reply(const std::string& url, int status, std::string body,
             std::vector<std::pair<std::string, std::string>> headers = {});
  // Replaces whatever is scripted for `url` with this one reply.
  void SetReply(const std::string& url, int status, std::string body);
  // Queues a transport failure for `url` (e.g. absl::UnavailableError).
  void Fail(const std::string& url, absl::Status error);
  // Replaces whatever is scripted for `url` with this one failure.
  void SetFail(const std::string& url, absl::Status error);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  std::vector<HttpRequest> requests() const;
  // How many requests went to `url`.
  int CountTo(const std::string& url) const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::deque<absl::StatusOr<HttpResponse>>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace datagen::testing

#endif  // DATAGEN_TESTS_TESTING_FAKE_HTTP_TRANSPORT_H_
