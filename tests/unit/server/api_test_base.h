// Fixture for the Api tests: a real Store in a temporary folder, two apps,
// a simulated clock, and helpers that build requests and read answers.
#ifndef CALLSD_TESTS_UNIT_SERVER_API_TEST_BASE_H_
#define CALLSD_TESTS_UNIT_SERVER_API_TEST_BASE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gtest/gtest.h"
#include "server/app_registry.h"
#include "server/http/api.h"
#include "server/store/store.h"
#include "tests/unit/server/temp_dir.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server::testing {

inline constexpr char kApp[] = "app1";
inline constexpr char kAppToken[] = "master-token-of-app1-0123456789";
inline constexpr char kOtherApp[] = "app2";
inline constexpr char kOtherAppToken[] = "master-token-of-app2-0123456789";

using Headers = std::vector<std::pair<std::string, std::string>>;

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() {
    auto store = Store::Open(dir_.File("calls.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    EXPECT_TRUE(apps_.Add(kApp, kAppToken).ok());
    EXPECT_TRUE(apps_.Add(kOtherApp, kOtherAppToken).ok());
    api_ = std::make_unique<Api>(store_.get(), &apps_, &clock_, ApiOptions());
  }

  int64_t NowMs() const { return absl::ToUnixMillis(clock_.Now()); }
  void Advance(absl::Duration d) { clock_.Set(clock_.Now() + d); }

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body,
                    const Headers& headers) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    for (const auto& [name, value] : headers) request.headers[name] = value;
    return api_->Handle(request);
  }

  // Platform API with app1's master token.
  HttpResponse Admin(const std::string& method, const std::string& path,
                     const std::string& body = "") {
    return Send(method, path, body, {{"api-token", kAppToken}});
  }
  // Client API of app1 without a session.
  HttpResponse Client(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    return Send(method, path, body, {{"app-id", kApp}});
  }
  // Client API of app1 with a session key.
  HttpResponse Session(const std::string& key, const std::string& method,
                       const std::string& path, const std::string& body = "") {
    return Send(method, path, body, {{"app-id", kApp}, {"session-key", key}});
  }

  // Creates a user of app1 and returns its access token.
  std::string CreateUser(const std::string& user_id) {
    HttpResponse r =
        Admin("POST", "/v1/users",
              "{\"user_id\":\"" + user_id + "\",\"issue_access_token\":true}");
    EXPECT_EQ(r.http_status, 200) << r.body;
    return Parse<wire::v1::User>(r).access_token();
  }

  // Logs in with an access or session token; returns the session key.
  std::string Login(const std::string& user_id, const std::string& token) {
    HttpResponse r = Client("POST", "/v1/auth", AuthBody(user_id, token));
    EXPECT_EQ(r.http_status, 200) << r.body;
    return Parse<wire::v1::AuthResponse>(r).session_key();
  }

  static std::string AuthBody(const std::string& user_id, const std::string& token) {
    wire::v1::AuthRequest request;
    request.set_user_id(user_id);
    request.set_access_token(token);
    return ToJson(request);
  }

  static std::string PushBody(const std::string& token, bool unique = false) {
    wire::v1::RegisterPushTokenRequest request;
    request.set_token(token);
    request.set_unique(unique);
    return ToJson(request);
  }

  template <typename T>
  static T Parse(const HttpResponse& response) {
    T message;
    absl::Status status = FromJson(response.body, &message);
    EXPECT_TRUE(status.ok()) << status << " in " << response.body;
    return message;
  }

  // The exact error body for `code` and `message`.
  static std::string Error(int code, const std::string& message) {
    return ErrorJson(code, message);
  }

  TempDir dir_;
  callsd::testing::SimulatedClock clock_;
  std::unique_ptr<Store> store_;
  AppRegistry apps_;
  std::unique_ptr<Api> api_;
};

}  // namespace callsd::server::testing

#endif  // CALLSD_TESTS_UNIT_SERVER_API_TEST_BASE_H_
