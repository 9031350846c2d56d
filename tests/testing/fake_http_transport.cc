#include "tests/testing/fake_http_transport.h"

namespace datagen::testing {

void FakeHttpTransport::Reply(const std::string& url, int status, std::string body,
                              std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  absl::MutexLock lock(&mu_);
  script_[url].push_back(std::move(response));
}

void FakeHttpTransport::SetReply(const std::string& url, int status, std::string body) {
  {
    absl::MutexLock lock(&mu_);
    script_.erase(url);
  }
  Reply(url, status, std::move(body));
}

void FakeHttpTransport::Fail(const std::string& url, absl::Status error) {
  absl::MutexLock lock(&mu_);
  script_[url].push_back(std::move(error));
}

void FakeHttpTransport::SetFail(const std::string& url, absl::Status error) {
  absl::MutexLock lock(&mu_);
  script_[url].clear();
  script_[url].push_back(std::move(error));
}

absl::StatusOr<HttpResponse> FakeHttpTransport::Send(const HttpRequest& request) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(request);
  auto it = script_.find(request.url);
  if (it == script_.end() || it->second.empty()) {
    HttpResponse not_found;
    not_found.status = 404;
    return not_found;
  }
  absl::StatusOr<HttpResponse> reply = it->second.front();
  if (it->second.size() > 1) it->second.pop_front();
  return reply;
}

std::vector<HttpRequest> FakeHttpTransport::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int FakeHttpTransport::CountTo(const std::string& url) const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const HttpRequest& r : requests_) n += r.url == url;
  return n;
}

}  // namespace datagen::testing
