// The platform (Api-Token) endpoints of the Api.
#include "absl/strings/escaping.h"
#include "common/calls_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/api_test_base.h"

namespace callsd::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class PlatformApiTest : public ApiTest {};

TEST_F(PlatformApiTest, CreateUserReturnsTheUser) {
  HttpResponse r = Admin("POST", "/v1/users", R"({"user_id":"alice","nickname":"Alice"})");
  EXPECT_EQ(r.http_status, 200);
  wire::v1::User expected;
  expected.set_user_id("alice");
  expected.set_nickname("Alice");
  expected.set_created_at(NowMs());
  EXPECT_EQ(r.body, ToJson(expected));
}

TEST_F(PlatformApiTest, CreateUserCanIssueAnAccessToken) {
  HttpResponse r =
      Admin("POST", "/v1/users", R"({"user_id":"alice","issue_access_token":true})");
  ASSERT_EQ(r.http_status, 200);
  auto user = Parse<wire::v1::User>(r);
  EXPECT_EQ(user.user_id(), "alice");
  EXPECT_GE(user.access_token().size(), 40u);
  // The token works.
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", user.access_token())).http_status, 200);
}

TEST_F(PlatformApiTest, DuplicateUser) {
  CreateUser("alice");
  HttpResponse r = Admin("POST", "/v1/users", R"({"user_id":"alice"})");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeAlreadyExists, "user_id: user alice already exists"));
}

TEST_F(PlatformApiTest, SameUserIdInAnotherAppIsAnotherUser) {
  CreateUser("alice");
  HttpResponse r = Send("POST", "/v1/users", R"({"user_id":"alice"})",
                        {{"api-token", kOtherAppToken}});
  EXPECT_EQ(r.http_status, 200) << r.body;
}

TEST_F(PlatformApiTest, MissingUserId) {
  for (const char* body : {"", "{}", R"({"user_id":""})", "  \n"}) {
    HttpResponse r = Admin("POST", "/v1/users", body);
    EXPECT_EQ(r.http_status, 400) << body;
    EXPECT_EQ(r.body, Error(kCodeMissingParams, "user_id is required")) << body;
  }
}

TEST_F(PlatformApiTest, MalformedJson) {
  HttpResponse r = Admin("POST", "/v1/users", R"({"user_id":)");
  EXPECT_EQ(r.http_status, 400);
  auto error = Parse<wire::v1::Error>(r);
  EXPECT_TRUE(error.error());
  EXPECT_EQ(error.code(), kCodeInvalidParams);
  EXPECT_THAT(error.message(), StartsWith("malformed JSON for CreateUserRequest: "));
}

TEST_F(PlatformApiTest, WrongJsonType) {
  HttpResponse r = Admin("POST", "/v1/users", R"({"user_id":5})");
  EXPECT_EQ(r.http_status, 400);
  auto error = Parse<wire::v1::Error>(r);
  EXPECT_EQ(error.code(), kCodeInvalidParams);
  EXPECT_THAT(error.message(), HasSubstr("user_id"));
}

TEST_F(PlatformApiTest, JsonThatIsNotAnObject) {
  HttpResponse r = Admin("POST", "/v1/users", R"(["alice"])");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(Parse<wire::v1::Error>(r).code(), kCodeInvalidParams);
}

TEST_F(PlatformApiTest, UnknownFieldsAreIgnored) {
  HttpResponse r = Admin("POST", "/v1/users", R"({"user_id":"alice","shoe_size":44})");
  EXPECT_EQ(r.http_status, 200) << r.body;
}

TEST_F(PlatformApiTest, UserIdRules) {
  wire::v1::CreateUserRequest request;
  request.set_user_id(std::string(256, 'a'));
  EXPECT_EQ(Admin("POST", "/v1/users", ToJson(request)).http_status, 200);
  request.set_user_id("Zoë ✓ 名前");
  EXPECT_EQ(Admin("POST", "/v1/users", ToJson(request)).http_status, 200);

  struct Case {
    std::string user_id;
    std::string message;
  };
  const std::vector<Case> cases = {
      {std::string(257, 'a'), "user_id: longer than 256 bytes"},
      {"tab\there", "user_id: must be UTF-8 without control characters"},
      {"del\x7f", "user_id: must be UTF-8 without control characters"},
      {"c1\xc2\x85", "user_id: must be UTF-8 without control characters"},
      {"a/b", "user_id: must not contain '/' nor be \".\" or \"..\""},
      {"..", "user_id: must not contain '/' nor be \".\" or \"..\""},
  };
  for (const Case& c : cases) {
    request.set_user_id(c.user_id);
    HttpResponse r = Admin("POST", "/v1/users", ToJson(request));
    EXPECT_EQ(r.http_status, 400) << c.user_id;
    EXPECT_EQ(r.body, Error(kCodeInvalidParams, c.message)) << c.user_id;
  }
}

TEST_F(PlatformApiTest, NicknameRules) {
  wire::v1::CreateUserRequest request;
  request.set_user_id("alice");
  request.set_nickname(std::string(257, 'n'));
  HttpResponse r = Admin("POST", "/v1/users", ToJson(request));
  EXPECT_EQ(r.body, Error(kCodeInvalidParams, "nickname: longer than 256 bytes"));
  request.set_nickname("line\nbreak");
  r = Admin("POST", "/v1/users", ToJson(request));
  EXPECT_EQ(r.body, Error(kCodeInvalidParams, "nickname: must be UTF-8 without control characters"));
}

TEST_F(PlatformApiTest, ApiTokenMissingOrWrong) {
  HttpResponse r = Send("POST", "/v1/users", R"({"user_id":"alice"})", {});
  EXPECT_EQ(r.http_status, 401);
  EXPECT_EQ(r.body, Error(kCodeNotAllowed, "Api-Token header is missing"));
  r = Send("GET", "/v1/users/alice", "", {{"api-token", "nope"}});
  EXPECT_EQ(r.http_status, 401);
  EXPECT_EQ(r.body, Error(kCodeNotAllowed, "Api-Token is not valid for any app"));
  // A client header is no substitute.
  r = Send("GET", "/v1/users/alice", "", {{"app-id", kApp}});
  EXPECT_EQ(r.http_status, 401);
}

TEST_F(PlatformApiTest, GetUser) {
  Admin("POST", "/v1/users", R"({"user_id":"alice","nickname":"Alice"})");
  HttpResponse r = Admin("GET", "/v1/users/alice");
  EXPECT_EQ(r.http_status, 200);
  wire::v1::User expected;
  expected.set_user_id("alice");
  expected.set_nickname("Alice");
  expected.set_created_at(NowMs());
  EXPECT_EQ(r.body, ToJson(expected));
  // Never the access token again.
  EXPECT_EQ(Parse<wire::v1::User>(r).access_token(), "");
}

TEST_F(PlatformApiTest, UnknownUserIsNotFound) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/users/nobody"},
           {"DELETE", "/v1/users/nobody"},
           {"POST", "/v1/users/nobody/token"},
           {"DELETE", "/v1/users/nobody/token"},
           {"GET", "/v1/users/nobody/push"}}) {
    HttpResponse r = Admin(method, path);
    EXPECT_EQ(r.http_status, 400) << method << " " << path;
    EXPECT_EQ(r.body, Error(kCodeNotFound, "user nobody not found")) << method << " " << path;
  }
}

TEST_F(PlatformApiTest, AppsSeeOnlyTheirUsers) {
  CreateUser("alice");
  HttpResponse r = Send("GET", "/v1/users/alice", "", {{"api-token", kOtherAppToken}});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeNotFound, "user alice not found"));
  r = Send("DELETE", "/v1/users/alice", "", {{"api-token", kOtherAppToken}});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(Admin("GET", "/v1/users/alice").http_status, 200);
}

TEST_F(PlatformApiTest, DeleteUserTakesTokensSessionsAndPushTokens) {
  const std::string token = CreateUser("alice");
  const std::string key = Login("alice", token);
  ASSERT_EQ(Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/a")).http_status,
            200);
  HttpResponse r = Admin("DELETE", "/v1/users/alice");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(Admin("GET", "/v1/users/alice").http_status, 400);
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/voip").body,
            Error(kCodeInvalidAccessToken, "invalid session key"));
  // Re-created with the same ID: the old token and key are worthless, no push tokens.
  CreateUser("alice");
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", token)).body,
            Error(kCodeInvalidAccessToken, "invalid user_id or access_token"));
  EXPECT_EQ(Admin("GET", "/v1/users/alice/push").body, "{}");
}

TEST_F(PlatformApiTest, SessionTokenDefaultsToSevenDays) {
  CreateUser("alice");
  for (const char* body : {"", "{}", R"({"expires_at":0})"}) {
    HttpResponse r = Admin("POST", "/v1/users/alice/token", body);
    ASSERT_EQ(r.http_status, 200) << r.body;
    auto token = Parse<wire::v1::SessionToken>(r);
    EXPECT_EQ(token.expires_at(), NowMs() + 7 * 24 * 3600 * 1000LL);
    EXPECT_GE(token.token().size(), 40u);
  }
}

TEST_F(PlatformApiTest, SessionTokenLifetimeIsConfigurable) {
  ApiOptions options;
  options.session_token_lifetime = absl::Hours(1);
  Api api(store_.get(), &apps_, &clock_, options);
  CreateUser("alice");
  HttpRequest request;
  request.method = "POST";
  request.path = "/v1/users/alice/token";
  request.headers["api-token"] = kAppToken;
  HttpResponse r = api.Handle(request);
  EXPECT_EQ(Parse<wire::v1::SessionToken>(r).expires_at(), NowMs() + 3600 * 1000);
}

TEST_F(PlatformApiTest, SessionTokenWithExplicitExpiry) {
  CreateUser("alice");
  wire::v1::IssueSessionTokenRequest request;
  request.set_expires_at(NowMs() + 60'000);
  HttpResponse r = Admin("POST", "/v1/users/alice/token", ToJson(request));
  ASSERT_EQ(r.http_status, 200);
  EXPECT_EQ(Parse<wire::v1::SessionToken>(r).expires_at(), NowMs() + 60'000);
  // int64 may come as a JSON number too.
  r = Admin("POST", "/v1/users/alice/token",
            "{\"expires_at\":" + std::to_string(NowMs() + 1) + "}");
  EXPECT_EQ(r.http_status, 200) << r.body;
}

TEST_F(PlatformApiTest, SessionTokenExpiryInThePast) {
  CreateUser("alice");
  for (int64_t when : {NowMs(), NowMs() - 1, int64_t{-5}}) {
    wire::v1::IssueSessionTokenRequest request;
    request.set_expires_at(when);
    HttpResponse r = Admin("POST", "/v1/users/alice/token", ToJson(request));
    EXPECT_EQ(r.http_status, 400);
    EXPECT_EQ(r.body, Error(kCodeInvalidParams,
                            "expires_at: " + std::to_string(when) +
                                " is not in the future (now is " + std::to_string(NowMs()) +
                                ", Unix milliseconds)"));
  }
}

TEST_F(PlatformApiTest, RevokeSessionTokens) {
  CreateUser("alice");
  auto token = Parse<wire::v1::SessionToken>(Admin("POST", "/v1/users/alice/token"));
  const std::string key = Login("alice", token.token());
  HttpResponse r = Admin("DELETE", "/v1/users/alice/token");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");
  // Revoking again is fine.
  EXPECT_EQ(Admin("DELETE", "/v1/users/alice/token").http_status, 200);
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", token.token())).body,
            Error(kCodeSessionTokenRevoked, "session token revoked"));
  EXPECT_EQ(Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/a")).body,
            Error(kCodeSessionTokenRevoked,
                  "the session token of this session key has been revoked"));
  // New tokens work.
  auto fresh = Parse<wire::v1::SessionToken>(Admin("POST", "/v1/users/alice/token"));
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", fresh.token())).http_status, 200);
}

TEST_F(PlatformApiTest, RevokingSessionTokensLeavesAccessTokenSessions) {
  const std::string access = CreateUser("alice");
  const std::string key = Login("alice", access);
  ASSERT_EQ(Admin("DELETE", "/v1/users/alice/token").http_status, 200);
  EXPECT_EQ(Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/a")).http_status,
            200);
}

TEST_F(PlatformApiTest, ListPushTokens) {
  const std::string key = Login("alice", CreateUser("alice"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/v1"));
  Advance(absl::Milliseconds(5));
  Session(key, "POST", "/v1/push/remote", PushBody("https://push.example/r1"));
  Advance(absl::Milliseconds(5));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/v2"));

  HttpResponse r = Admin("GET", "/v1/users/alice/push");
  ASSERT_EQ(r.http_status, 200);
  wire::v1::PushTokenList expected;
  const int64_t now = NowMs();
  auto add = [&](const char* type, const char* token, int64_t at) {
    auto* info = expected.add_tokens();
    info->set_type(type);
    info->set_token(token);
    info->set_registered_at(at);
  };
  add("voip", "https://push.example/v1", now - 10);
  add("remote", "https://push.example/r1", now - 5);
  add("voip", "https://push.example/v2", now);
  EXPECT_EQ(r.body, ToJson(expected));
}

TEST_F(PlatformApiTest, DirectCallsOfAUserWithoutCalls) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/v1/direct_calls";
  request.query["user_id"] = "alice";
  request.headers["api-token"] = kAppToken;
  HttpResponse r = api_->Handle(request);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeNotFound, "user alice not found"));
  CreateUser("alice");
  r = api_->Handle(request);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");  // an empty CallList (see calls_api_test.cc)
}

}  // namespace
}  // namespace callsd::server::testing
