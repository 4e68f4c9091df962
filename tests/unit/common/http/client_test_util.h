// Helpers of the LwsHttpClient tests (lws_http_client_test.cc and
// lws_http_client_failure_test.cc): outcome collection, request and
// client/server construction. Both tests are written inside callsd::testing,
// so they use these (and test_http_server.h) without using-declarations;
// gtest's own names need the leading "::" there ("::testing::Test").
#ifndef CALLSD_TESTS_UNIT_COMMON_HTTP_CLIENT_TEST_UTIL_H_
#define CALLSD_TESTS_UNIT_COMMON_HTTP_CLIENT_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/http/lws_http_client.h"
#include "gtest/gtest.h"
#include "tests/unit/common/http/test_http_server.h"

namespace callsd::testing {

// How long a test waits for an outcome that should come much sooner.
constexpr absl::Duration kPatience = absl::Seconds(20);

// Collects the outcomes of many requests: each callback's result, how many
// times it ran and on which thread.
class Outcomes {
 public:
  HttpClient::Callback Expect(int key) {
    {
      absl::MutexLock lock(&mu_);
      ++expected_;
    }
    return [this, key](absl::StatusOr<HttpResponse> result) {
      absl::MutexLock lock(&mu_);
      auto [it, inserted] = results_.try_emplace(key, std::move(result));
      if (!inserted) ++duplicates_;
      threads_[key] = std::this_thread::get_id();
    };
  }
  // True when every expected callback ran, within `timeout`.
  bool WaitAll(absl::Duration timeout = kPatience) {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(results_.size()) >= expected_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&all), timeout);
  }
  // True when the callback of `key` ran, within `timeout`.
  bool WaitFor(int key, absl::Duration timeout = kPatience) {
    absl::MutexLock lock(&mu_);
    auto ran = [this, key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return results_.count(key) > 0; };
    return mu_.AwaitWithTimeout(absl::Condition(&ran), timeout);
  }
  absl::StatusOr<HttpResponse> result(int key) {
    absl::MutexLock lock(&mu_);
    auto it = results_.find(key);
    if (it == results_.end()) return absl::InternalError("test: no result");
    return it->second;
  }
  std::thread::id thread(int key) {
    absl::MutexLock lock(&mu_);
    return threads_[key];
  }
  int duplicates() {
    absl::MutexLock lock(&mu_);
    return duplicates_;
  }

 private:
  absl::Mutex mu_;
  int expected_ ABSL_GUARDED_BY(mu_) = 0;
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, absl::StatusOr<HttpResponse>> results_ ABSL_GUARDED_BY(mu_);
  std::map<int, std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

inline absl::StatusOr<HttpResponse> SendAndWait(HttpClient& client, HttpRequest request) {
  // Shared with the callback, in case it comes after the test gave up.
  auto outcomes = std::make_shared<Outcomes>();
  client.Send(std::move(request),
              [outcomes, done = outcomes->Expect(0)](absl::StatusOr<HttpResponse> r) mutable {
                std::move(done)(std::move(r));
              });
  if (!outcomes->WaitAll()) return absl::InternalError("test: no callback in time");
  return outcomes->result(0);
}

inline HttpRequest Request(std::string method, std::string url, std::string body = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = std::move(body);
  request.timeout = absl::Seconds(10);
  return request;
}

inline std::unique_ptr<LwsHttpClient> NewClient(LwsHttpClientOptions options = {}) {
  auto client = LwsHttpClient::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

inline std::unique_ptr<TestHttpServer> NewServer(TestHttpServer::Handler handler,
                                          const TestHttpServer::Tls* tls = nullptr) {
  auto server = TestHttpServer::Start(std::move(handler), tls);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

inline ScriptedReply Ok(const ReceivedRequest&) { return ScriptedReply::Http(200, "{}"); }

}  // namespace callsd::testing

#endif  // CALLSD_TESTS_UNIT_COMMON_HTTP_CLIENT_TEST_UTIL_H_
