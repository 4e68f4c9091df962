// RestBackend over a fake HttpClient and simulated scheduler: the requests
// it sends (paths, headers, bodies) and how it reads every kind of answer.
#include "daemon/backend/rest_backend.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "common/calls_error.h"
#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/daemon/backend/fake_http_client.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {
namespace {

using ::callsd::testing::FakeHttpClient;
using ::callsd::testing::HeaderOf;
using ::callsd::testing::SimulatedScheduler;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "access-token-SECRET";
constexpr char kSessionKey[] = "session-key-SECRET";

const SessionCredentials kCreds{"app-1", kSessionKey};

class RestBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { backend_ = Make("http://127.0.0.1:8080"); }

  std::unique_ptr<RestBackend> Make(std::string base_url) {
    RestBackend::Options options;
    options.base_url = std::move(base_url);
    options.request_timeout = absl::Seconds(7);
    auto backend = RestBackend::Create(&http_, &engine_, options);
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? *std::move(backend) : nullptr;
  }

  // Authenticates, answers with `status`/`body` and returns the result once
  // the engine ran it.
  absl::StatusOr<AuthResult> AuthenticateWith(int status, std::string body) {
    std::optional<absl::StatusOr<AuthResult>> result;
    backend_->Authenticate("app-1", "alice", kToken,
                           [&](absl::StatusOr<AuthResult> r) { result = std::move(r); });
    http_.ReplyLast(status, std::move(body));
    engine_.RunUntilIdle();
    if (!result.has_value()) return absl::InternalError("test: done did not run");
    return *result;
  }

  absl::StatusOr<AuthResult> AuthenticateWithError(absl::Status transport_error) {
    std::optional<absl::StatusOr<AuthResult>> result;
    backend_->Authenticate("app-1", "alice", kToken,
                           [&](absl::StatusOr<AuthResult> r) { result = std::move(r); });
    http_.Answer(http_.sent() - 1, std::move(transport_error));
    engine_.RunUntilIdle();
    if (!result.has_value()) return absl::InternalError("test: done did not run");
    return *result;
  }

  // EndSession, answered with `status`/`body`.
  absl::Status EndSessionWith(int status, std::string body) {
    std::optional<absl::Status> result;
    backend_->EndSession(kCreds, [&](absl::Status s) { result = std::move(s); });
    http_.ReplyLast(status, std::move(body));
    engine_.RunUntilIdle();
    return result.value_or(absl::InternalError("test: done did not run"));
  }

  static std::string AuthAnswer(int64_t expires_at) {
    wire::v1::AuthResponse answer;
    answer.set_session_key(kSessionKey);
    answer.set_expires_at(expires_at);
    answer.mutable_user()->set_user_id("alice");
    answer.mutable_user()->set_nickname("Alice");
    answer.set_push_key(std::string("\x01\x02\xfe\xff", 4));
    return ToJson(answer);
  }

  static void ExpectNoSecret(const absl::Status& status) {
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr("SECRET"))) << status;
  }

  FakeHttpClient http_;
  SimulatedScheduler engine_;
  std::unique_ptr<RestBackend> backend_;
};

// ---------------------------------------------------------------------------
// Requests.

TEST_F(RestBackendTest, AuthenticatePostsUserAndTokenWithAppId) {
  backend_->Authenticate("app-1", "alice", kToken, [](absl::StatusOr<AuthResult>) {});

  ASSERT_EQ(http_.sent(), 1u);
  const HttpRequest request = http_.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:8080/v1/auth");
  EXPECT_EQ(HeaderOf(request, "App-Id"), "app-1");
  int session_keys = 0;
  HeaderOf(request, "Session-Key", &session_keys);
  EXPECT_EQ(session_keys, 0);
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/json");
  EXPECT_EQ(request.timeout, absl::Seconds(7));
  auto body = ParseJson<wire::v1::AuthRequest>(request.body);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->user_id(), "alice");
  EXPECT_EQ(body->access_token(), kToken);
}

TEST_F(RestBackendTest, AuthenticateReadsTheAnswerOnTheEngine) {
  std::optional<absl::StatusOr<AuthResult>> result;
  backend_->Authenticate("app-1", "alice", kToken,
                         [&](absl::StatusOr<AuthResult> r) { result = std::move(r); });
  http_.ReplyLast(200, AuthAnswer(1'800'000'123'456));
  EXPECT_FALSE(result.has_value()) << "done must wait for the engine";

  engine_.RunUntilIdle();

  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status();
  const AuthResult& auth = **result;
  EXPECT_EQ(auth.session_key, kSessionKey);
  EXPECT_EQ(auth.expires_at, absl::FromUnixMillis(1'800'000'123'456));
  EXPECT_EQ(auth.user_id, "alice");
  EXPECT_EQ(auth.nickname, "Alice");
  EXPECT_EQ(auth.push_key, std::string("\x01\x02\xfe\xff", 4));
}

TEST_F(RestBackendTest, ZeroExpiryMeansNone) {
  auto auth = AuthenticateWith(200, AuthAnswer(0));
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->expires_at, std::nullopt);
}

TEST_F(RestBackendTest, ExpiryAsJsonNumberOrString) {
  auto as_number = AuthenticateWith(
      200, R"({"session_key":"k","expires_at":1800000000000,"user":{"user_id":"alice"}})");
  auto as_string = AuthenticateWith(
      200, R"({"session_key":"k","expires_at":"1800000000000","extra":{"new":1}})");

  ASSERT_TRUE(as_number.ok()) << as_number.status();
  EXPECT_EQ(as_number->expires_at, absl::FromUnixSeconds(1'800'000'000));
  ASSERT_TRUE(as_string.ok()) << as_string.status();
  EXPECT_EQ(as_string->expires_at, absl::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(as_string->user_id, "alice") << "no user in the answer: the one asked for";
}

TEST_F(RestBackendTest, BaseUrlWithPrefixAndTrailingSlash) {
  auto backend = Make("https://calls.example.com/prefix/");
  backend->EndSession(kCreds, [](absl::Status) {});
  EXPECT_EQ(http_.last().url, "https://calls.example.com/prefix/v1/auth");
}

TEST_F(RestBackendTest, EndSessionDeletesWithTheSessionKey) {
  absl::Status status = EndSessionWith(200, "{}");

  EXPECT_TRUE(status.ok()) << status;
  const HttpRequest request = http_.last();
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.url, "http://127.0.0.1:8080/v1/auth");
  EXPECT_EQ(HeaderOf(request, "App-Id"), "app-1");
  EXPECT_EQ(HeaderOf(request, "Session-Key"), kSessionKey);
  EXPECT_EQ(request.body, "");
}

TEST_F(RestBackendTest, RegisterPushTokenPostsTokenAndUnique) {
  std::optional<absl::Status> voip, remote;
  backend_->RegisterPushToken(kCreds, PushType::kVoip, "https://push.example/up/1", true,
                              [&](absl::Status s) { voip = s; });
  http_.ReplyLast(200, R"({"type":"voip","token":"https://push.example/up/1","removed":2})");
  backend_->RegisterPushToken(kCreds, PushType::kRemote, "https://push.example/up/2", false,
                              [&](absl::Status s) { remote = s; });
  http_.ReplyLast(200, "{}");
  engine_.RunUntilIdle();

  ASSERT_TRUE(voip.has_value() && remote.has_value());
  EXPECT_TRUE(voip->ok()) << *voip;
  EXPECT_TRUE(remote->ok()) << *remote;
  const HttpRequest first = http_.request(0);
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.url, "http://127.0.0.1:8080/v1/push/voip");
  EXPECT_EQ(HeaderOf(first, "Session-Key"), kSessionKey);
  auto body = ParseJson<wire::v1::RegisterPushTokenRequest>(first.body);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->token(), "https://push.example/up/1");
  EXPECT_TRUE(body->unique());
  EXPECT_EQ(http_.request(1).url, "http://127.0.0.1:8080/v1/push/remote");
  EXPECT_FALSE(ParseJson<wire::v1::RegisterPushTokenRequest>(http_.request(1).body)->unique());
}

TEST_F(RestBackendTest, UnregisterPushTokenPercentEncodesTheToken) {
  std::optional<absl::Status> status;
  backend_->UnregisterPushToken(kCreds, PushType::kRemote, "https://push.example/up?a=1+b c",
                                [&](absl::Status s) { status = s; });
  http_.ReplyLast(200, "{}");
  engine_.RunUntilIdle();

  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok()) << *status;
  const HttpRequest request = http_.last();
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.url,
            "http://127.0.0.1:8080/v1/push/remote/"
            "https%3A%2F%2Fpush%2Eexample%2Fup%3Fa%3D1%2Bb%20c");
  EXPECT_EQ(request.body, "");
}

TEST_F(RestBackendTest, UnregisterPushTokenFailureNeverShowsTheToken) {
  std::optional<absl::Status> status;
  backend_->UnregisterPushToken(kCreds, PushType::kVoip, "https://push.example/SECRET",
                                [&](absl::Status s) { status = s; });
  http_.ReplyLast(502, "");
  engine_.RunUntilIdle();

  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status->message()), HasSubstr("DELETE /v1/push/voip/{token}: "));
  ExpectNoSecret(*status);
}

TEST_F(RestBackendTest, EmptyPushTokenIsRejectedWithoutSendingAnything) {
  std::optional<absl::Status> status;
  backend_->UnregisterPushToken(kCreds, PushType::kVoip, "", [&](absl::Status s) { status = s; });
  EXPECT_FALSE(status.has_value()) << "never inline";

  engine_.RunUntilIdle();

  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.sent(), 0u);
}

TEST_F(RestBackendTest, UnregisterAllPushTokensDeletesTheType) {
  std::optional<absl::Status> status;
  backend_->UnregisterAllPushTokens(kCreds, PushType::kVoip, [&](absl::Status s) { status = s; });
  http_.ReplyLast(204, "");
  engine_.RunUntilIdle();

  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok()) << *status;
  EXPECT_EQ(http_.last().method, "DELETE");
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:8080/v1/push/voip");
}

TEST_F(RestBackendTest, AnswerAfterTheBackendIsGoneStillReachesTheEngine) {
  std::optional<absl::Status> status;
  backend_->EndSession(kCreds, [&](absl::Status s) { status = s; });
  backend_.reset();

  http_.ReplyLast(200, "{}");
  engine_.RunUntilIdle();

  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok()) << *status;
}

TEST_F(RestBackendTest, CreateRoomPostsTheTypeAndReadsTheRoom) {
  std::optional<absl::StatusOr<wire::v1::RoomInfo>> result;
  backend_->CreateRoom(kCreds, "large",
                       [&](absl::StatusOr<wire::v1::RoomInfo> r) { result = std::move(r); });
  wire::v1::RoomInfo answer;
  answer.set_room_id("room-1");
  answer.set_type("large");
  answer.set_owner_id("alice");
  answer.set_max_participants(20);
  http_.ReplyLast(200, ToJson(answer));
  engine_.RunUntilIdle();

  const HttpRequest request = http_.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:8080/v1/rooms");
  EXPECT_EQ(HeaderOf(request, "Session-Key"), kSessionKey);
  auto body = ParseJson<wire::v1::RoomInfo>(request.body);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->type(), "large");
  EXPECT_EQ(body->room_id(), "") << "only the type is sent";
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status();
  EXPECT_EQ((*result)->room_id(), "room-1");
  EXPECT_EQ((*result)->max_participants(), 20);
}

TEST_F(RestBackendTest, GetRoomEncodesTheIdAndKeepsTheServerCode) {
  std::optional<absl::StatusOr<wire::v1::RoomInfo>> result;
  backend_->GetRoom(kCreds, "room/1 x",
                    [&](absl::StatusOr<wire::v1::RoomInfo> r) { result = std::move(r); });
  http_.ReplyLast(404, ErrorJson(kCodeNotFound, "room not found"));
  engine_.RunUntilIdle();

  EXPECT_EQ(http_.last().method, "GET");
  EXPECT_EQ(http_.last().url, "http://127.0.0.1:8080/v1/rooms/room%2F1%20x");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetCallsCode(result->status()), kCodeNotFound);
  EXPECT_EQ(result->status().message(), "room not found");
}

TEST_F(RestBackendTest, RoomAnswersThatAreNotRoomsAreUnavailable) {
  for (const std::string& body : {std::string("[1,2]"), std::string(R"({"type":"small"})")}) {
    std::optional<absl::StatusOr<wire::v1::RoomInfo>> result;
    backend_->GetRoom(kCreds, "r1",
                      [&](absl::StatusOr<wire::v1::RoomInfo> r) { result = std::move(r); });
    http_.ReplyLast(200, body);
    engine_.RunUntilIdle();
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable) << body;
    EXPECT_THAT(std::string(result->status().message()), HasSubstr("GET /v1/rooms/{room_id}"));
  }
}

TEST_F(RestBackendTest, EmptyRoomIdIsRejectedWithoutSendingAnything) {
  std::optional<absl::StatusOr<wire::v1::RoomInfo>> result;
  backend_->GetRoom(kCreds, "", [&](absl::StatusOr<wire::v1::RoomInfo> r) { result = r; });
  EXPECT_FALSE(result.has_value()) << "never inline";
  engine_.RunUntilIdle();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.sent(), 0u);
}

// ---------------------------------------------------------------------------
// Answers that are errors.

TEST_F(RestBackendTest, ServerErrorBodyMapsToItsCodeWhateverTheHttpStatus) {
  auto revoked = AuthenticateWith(
      401, R"({"error":true,"code":400310,"message":"session token revoked"})");
  auto not_found = AuthenticateWith(404, ErrorJson(kCodeNotFound, "no such user"));
  auto on_200 = AuthenticateWith(200, ErrorJson(kCodeInvalidAccessToken, "invalid token"));
  auto internal = AuthenticateWith(500, ErrorJson(kCodeInternal, "database is locked"));

  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetCallsCode(revoked.status()), kCodeSessionTokenRevoked);
  EXPECT_EQ(revoked.status().message(), "session token revoked");
  EXPECT_EQ(not_found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetCallsCode(not_found.status()), kCodeNotFound);
  EXPECT_EQ(on_200.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetCallsCode(on_200.status()), kCodeInvalidAccessToken);
  EXPECT_EQ(internal.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetCallsCode(internal.status()), kCodeInternal);
}

TEST_F(RestBackendTest, ErrorStatusWithEmptyCodeStillCarriesAMessage) {
  auto status = EndSessionWith(400, R"({"error":true,"code":400100,"message":""})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetCallsCode(status), kCodeInvalidParams);
  EXPECT_EQ(status.message(), "calls server error 400100");
}

struct UnavailableCase {
  const char* name;
  int status;
  const char* body;
  const char* message;  // expected substring
};

class RestBackendUnavailableTest : public RestBackendTest,
                                   public ::testing::WithParamInterface<UnavailableCase> {};

TEST_P(RestBackendUnavailableTest, AuthenticateAnswer) {
  const UnavailableCase& c = GetParam();
  auto result = AuthenticateWith(c.status, c.body);

  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_EQ(GetCallsCode(result.status()), std::nullopt);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("POST /v1/auth: "));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(c.message));
  ExpectNoSecret(result.status());
}

INSTANTIATE_TEST_SUITE_P(
    Answers, RestBackendUnavailableTest,
    ::testing::Values(
        UnavailableCase{"BadGatewayWithoutBody", 502, "",
                        "calls server answered HTTP 502 without an error body"},
        UnavailableCase{"ServiceUnavailableHtml", 503, "<html>busy</html>",
                        "answered HTTP 503 without an error body"},
        UnavailableCase{"NotFoundWithoutErrorBody", 404, "Not Found",
                        "HTTP 404 without an error body (is the server URL that of a calls server"},
        UnavailableCase{"RedirectNotFollowed", 302, "", "HTTP 302"},
        UnavailableCase{"OkButNotJson", 200, "<html>captive portal</html>",
                        "HTTP 200 with a body that is not a JSON AuthResponse"},
        UnavailableCase{"OkButTruncatedJson", 200,
                        R"({"session_key":"session-key-SECRET","expires_a)",
                        "not a JSON AuthResponse"},
        UnavailableCase{"OkWithoutSessionKey", 200, R"({"user":{"user_id":"alice"}})",
                        "without a session key"},
        UnavailableCase{"ErrorWithoutCode", 500, R"({"error":true,"message":"boom"})",
                        "an error without a code: boom"}),
    [](const ::testing::TestParamInfo<UnavailableCase>& info) { return info.param.name; });

TEST_F(RestBackendTest, TransportFailuresAreUnavailableNamingTheRequest) {
  auto refused = AuthenticateWithError(
      absl::UnavailableError("connection to 127.0.0.1:8080 refused (connect failed)"));
  auto truncated = AuthenticateWithError(absl::UnavailableError(
      "connection to 127.0.0.1:8080 closed before a complete response (HTTP 200, 10 body bytes "
      "received)"));
  auto timed_out = AuthenticateWithError(
      absl::DeadlineExceededError("no complete response from 127.0.0.1:8080 within 7s"));

  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(),
            "POST /v1/auth: connection to 127.0.0.1:8080 refused (connect failed)");
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(truncated.status().message()),
              HasSubstr("POST /v1/auth: connection to 127.0.0.1:8080 closed before"));
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(timed_out.status().message()),
              HasSubstr("POST /v1/auth: calls server did not answer in time"));
}

TEST_F(RestBackendTest, RequestTheClientRefusesIsInvalidArgument) {
  auto refused = AuthenticateWithError(
      absl::InvalidArgumentError("plain http to calls.example.com is refused"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("POST /v1/auth: plain http"));
}

TEST_F(RestBackendTest, StatusCallsAcceptEmptyOrJsonObjectBodiesOnly) {
  EXPECT_TRUE(EndSessionWith(200, "").ok());
  EXPECT_TRUE(EndSessionWith(200, " {\"ok\": true} ").ok());
  absl::Status garbage = EndSessionWith(200, "OK");
  EXPECT_EQ(garbage.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(garbage.message()),
              HasSubstr("DELETE /v1/auth: calls server answered HTTP 200 with a body that is not "
                        "a JSON object"));
  ExpectNoSecret(garbage);
}

// ---------------------------------------------------------------------------
// Construction and helpers.

TEST(RestBackendCreateTest, RejectsUnusableBaseUrls) {
  FakeHttpClient http;
  SimulatedScheduler engine;
  for (const char* url : {"", "calls.example.com", "ftp://calls.example.com",
                          "wss://calls.example.com", "https://calls.example.com/?x=1",
                          "https://calls.example.com/#top"}) {
    RestBackend::Options options;
    options.base_url = url;
    EXPECT_EQ(RestBackend::Create(&http, &engine, options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << url;
  }
  RestBackend::Options no_timeout;
  no_timeout.base_url = "https://calls.example.com";
  no_timeout.request_timeout = absl::ZeroDuration();
  EXPECT_EQ(RestBackend::Create(&http, &engine, no_timeout).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EncodePathSegmentTest, EscapesEverythingButAlphanumerics) {
  EXPECT_EQ(EncodePathSegment("abcXYZ019"), "abcXYZ019");
  EXPECT_EQ(EncodePathSegment("a b+c/d?e=f&g%h#i.j~k-l_m"),
            "a%20b%2Bc%2Fd%3Fe%3Df%26g%25h%23i%2Ej%7Ek%2Dl%5Fm");
  EXPECT_EQ(EncodePathSegment("\xc3\xa9\xff"), "%C3%A9%FF");
  const std::string long_token(1000, '/');
  EXPECT_EQ(EncodePathSegment(long_token).size(), 3000u);
}

TEST(PushTypeNameTest, Names) {
  EXPECT_STREQ(PushTypeName(PushType::kVoip), "voip");
  EXPECT_STREQ(PushTypeName(PushType::kRemote), "remote");
}

}  // namespace
}  // namespace callsd::daemon
