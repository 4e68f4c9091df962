// A fake HttpClient: records every request; the test answers each one when
// and how it likes (a response, or a transport error). Thread-safe.
#ifndef CALLSD_TESTS_UNIT_DAEMON_BACKEND_FAKE_HTTP_CLIENT_H_
#define CALLSD_TESTS_UNIT_DAEMON_BACKEND_FAKE_HTTP_CLIENT_H_

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/http/http_client.h"

namespace callsd::testing {

class FakeHttpClient final : public HttpClient {
 public:
  void Send(HttpRequest request, Callback done) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back({std::move(request), std::move(done)});
  }

  // Requests sent so far (answered or not).
  size_t sent() const {
    absl::MutexLock lock(&mu_);
    return sent_.size();
  }
  HttpRequest request(size_t i) const {
    absl::MutexLock lock(&mu_);
    return sent_.at(i).request;
  }
  HttpRequest last() const {
    absl::MutexLock lock(&mu_);
    return sent_.back().request;
  }

  // Completes request `i` (once) with `result`, on the calling thread.
  void Answer(size_t i, absl::StatusOr<HttpResponse> result) {
    Callback done;
    {
      absl::MutexLock lock(&mu_);
      done = std::move(sent_.at(i).done);
    }
    if (done) std::move(done)(std::move(result));
  }
  void Reply(size_t i, int status, std::string body) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.content_type = "application/json";
    Answer(i, std::move(response));
  }
  void ReplyLast(int status, std::string body) { Reply(sent() - 1, status, std::move(body)); }

 private:
  struct Sent {
    HttpRequest request;
    Callback done;
  };
  mutable absl::Mutex mu_;
  std::deque<Sent> sent_ ABSL_GUARDED_BY(mu_);
};

// The value of header `name` (exact case), "" if absent; `count` how often.
inline std::string HeaderOf(const HttpRequest& request, const std::string& name,
                            int* count = nullptr) {
  std::string value;
  int found = 0;
  for (const auto& [n, v] : request.headers) {
    if (n == name && found++ == 0) value = v;
  }
  if (count != nullptr) *count = found;
  return value;
}

}  // namespace callsd::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_BACKEND_FAKE_HTTP_CLIENT_H_
