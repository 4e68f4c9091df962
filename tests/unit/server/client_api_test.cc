// The client (App-Id / Session-Key) endpoints of the Api.
#include <fstream>
#include <iterator>

#include "absl/strings/escaping.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/api_test_base.h"

namespace callsd::server::testing {
namespace {

using ::testing::ElementsAre;

class ClientApiTest : public ApiTest {
 protected:
  // The user's push tokens as "type token" lines, via the platform API.
  std::vector<std::string> PushTokens(const std::string& user_id) {
    auto list = Parse<wire::v1::PushTokenList>(Admin("GET", "/v1/users/" + user_id + "/push"));
    std::vector<std::string> out;
    for (const auto& t : list.tokens()) out.push_back(t.type() + " " + t.token());
    return out;
  }
};

TEST_F(ClientApiTest, AppIdMissingOrUnknown) {
  HttpResponse r = Send("POST", "/v1/auth", AuthBody("alice", "x"), {});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeMissingParams, "App-Id header is missing"));
  r = Send("POST", "/v1/auth", AuthBody("alice", "x"), {{"app-id", "nope"}});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeInvalidParams, "App-Id: unknown app \"nope\""));
  r = Send("DELETE", "/v1/push/voip", "", {{"app-id", "nope"}, {"session-key", "k"}});
  EXPECT_EQ(r.body, Error(kCodeInvalidParams, "App-Id: unknown app \"nope\""));
}

TEST_F(ClientApiTest, AuthWithAccessToken) {
  HttpResponse created = Admin(
      "POST", "/v1/users", R"({"user_id":"alice","nickname":"Alice","issue_access_token":true})");
  const std::string token = Parse<wire::v1::User>(created).access_token();
  HttpResponse r = Client("POST", "/v1/auth", AuthBody("alice", token));
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto auth = Parse<wire::v1::AuthResponse>(r);
  EXPECT_GE(auth.session_key().size(), 40u);
  EXPECT_EQ(auth.expires_at(), 0);  // an access-token session does not expire
  EXPECT_EQ(auth.user().user_id(), "alice");
  EXPECT_EQ(auth.user().nickname(), "Alice");
  EXPECT_EQ(auth.user().created_at(), NowMs());
  EXPECT_EQ(auth.user().access_token(), "");
  EXPECT_EQ(auth.push_key().size(), 32u);
  // push_key is standard base64 in the JSON (protobuf's mapping of bytes).
  EXPECT_NE(r.body.find("\"push_key\":\"" + absl::Base64Escape(auth.push_key()) + "\""),
            std::string::npos);
  EXPECT_EQ(r.body.find("expires_at"), std::string::npos);

  // Each login is a new session with the same push key.
  auto again = Parse<wire::v1::AuthResponse>(Client("POST", "/v1/auth", AuthBody("alice", token)));
  EXPECT_NE(again.session_key(), auth.session_key());
  EXPECT_EQ(again.push_key(), auth.push_key());
  // Far in the future, still valid.
  Advance(absl::Hours(24 * 365));
  EXPECT_EQ(Session(auth.session_key(), "DELETE", "/v1/push/voip").http_status, 200);
}

TEST_F(ClientApiTest, PushKeysDifferPerUser) {
  auto a = Parse<wire::v1::AuthResponse>(
      Client("POST", "/v1/auth", AuthBody("alice", CreateUser("alice"))));
  auto b = Parse<wire::v1::AuthResponse>(
      Client("POST", "/v1/auth", AuthBody("bob", CreateUser("bob"))));
  EXPECT_NE(a.push_key(), b.push_key());
}

TEST_F(ClientApiTest, AuthWithSessionTokenExpiresWithIt) {
  CreateUser("alice");
  auto token = Parse<wire::v1::SessionToken>(Admin("POST", "/v1/users/alice/token"));
  HttpResponse r = Client("POST", "/v1/auth", AuthBody("alice", token.token()));
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto auth = Parse<wire::v1::AuthResponse>(r);
  EXPECT_EQ(auth.expires_at(), token.expires_at());
  const std::string key = auth.session_key();

  clock_.Set(absl::FromUnixMillis(token.expires_at() - 1));
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/voip").http_status, 200);
  clock_.Set(absl::FromUnixMillis(token.expires_at()));
  HttpResponse expired = Session(key, "DELETE", "/v1/push/voip");
  EXPECT_EQ(expired.http_status, 400);
  EXPECT_EQ(expired.body, Error(kCodeSessionKeyExpired, "session key expired"));
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", token.token())).body,
            Error(kCodeSessionKeyExpired, "session token expired"));
}

TEST_F(ClientApiTest, RevokedBeatsExpired) {
  CreateUser("alice");
  auto token = Parse<wire::v1::SessionToken>(Admin("POST", "/v1/users/alice/token"));
  const std::string key = Login("alice", token.token());
  Admin("DELETE", "/v1/users/alice/token");
  clock_.Set(absl::FromUnixMillis(token.expires_at() + 1));
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/voip").body,
            Error(kCodeSessionTokenRevoked,
                  "the session token of this session key has been revoked"));
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", token.token())).body,
            Error(kCodeSessionTokenRevoked, "session token revoked"));
}

TEST_F(ClientApiTest, AuthFailures) {
  const std::string alice = CreateUser("alice");
  const std::string bob = CreateUser("bob");
  const std::string invalid = Error(kCodeInvalidAccessToken, "invalid user_id or access_token");
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", "wrong")).body, invalid);
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", bob)).body, invalid);
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("nobody", alice)).body, invalid);
  // alice exists in app1 only.
  EXPECT_EQ(Send("POST", "/v1/auth", AuthBody("alice", alice), {{"app-id", kOtherApp}}).body,
            invalid);
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", "wrong")).http_status, 400);
}

TEST_F(ClientApiTest, AuthMissingFields) {
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("", "x")).body,
            Error(kCodeMissingParams, "user_id is required"));
  EXPECT_EQ(Client("POST", "/v1/auth", AuthBody("alice", "")).body,
            Error(kCodeMissingParams, "access_token is required"));
  EXPECT_EQ(Client("POST", "/v1/auth", "").body, Error(kCodeMissingParams, "user_id is required"));
  HttpResponse bad = Client("POST", "/v1/auth", "{nope");
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(Parse<wire::v1::Error>(bad).code(), kCodeInvalidParams);
}

TEST_F(ClientApiTest, SessionKeyMissingUnknownOrOfAnotherApp) {
  const std::string key = Login("alice", CreateUser("alice"));
  HttpResponse r = Client("POST", "/v1/push/voip", PushBody("https://push.example/a"));
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeMissingParams, "Session-Key header is missing"));
  r = Session("not-a-key", "POST", "/v1/push/voip", PushBody("https://push.example/a"));
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeInvalidAccessToken, "invalid session key"));
  r = Send("DELETE", "/v1/push/voip", "", {{"app-id", kOtherApp}, {"session-key", key}});
  EXPECT_EQ(r.body, Error(kCodeInvalidAccessToken, "invalid session key"));
}

TEST_F(ClientApiTest, EndSession) {
  const std::string token = CreateUser("alice");
  const std::string key = Login("alice", token);
  const std::string other = Login("alice", token);
  HttpResponse r = Session(key, "DELETE", "/v1/auth");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/voip").body,
            Error(kCodeInvalidAccessToken, "invalid session key"));
  EXPECT_EQ(Session(key, "DELETE", "/v1/auth").body,
            Error(kCodeInvalidAccessToken, "invalid session key"));
  // Other sessions of the user live on.
  EXPECT_EQ(Session(other, "DELETE", "/v1/push/voip").http_status, 200);
  EXPECT_EQ(Client("DELETE", "/v1/auth").body,
            Error(kCodeMissingParams, "Session-Key header is missing"));
}

TEST_F(ClientApiTest, ExpiredOrRevokedSessionCanStillBeEnded) {
  CreateUser("alice");
  auto token = Parse<wire::v1::SessionToken>(Admin("POST", "/v1/users/alice/token"));
  const std::string key = Login("alice", token.token());
  clock_.Set(absl::FromUnixMillis(token.expires_at() + 1));
  EXPECT_EQ(Session(key, "DELETE", "/v1/auth").http_status, 200);
}

TEST_F(ClientApiTest, RegisterPushToken) {
  const std::string key = Login("alice", CreateUser("alice"));
  HttpResponse r = Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/up/1"));
  ASSERT_EQ(r.http_status, 200) << r.body;
  wire::v1::RegisterPushTokenResponse expected;
  expected.set_type("voip");
  expected.set_token("https://push.example/up/1");
  EXPECT_EQ(r.body, ToJson(expected));
  EXPECT_THAT(PushTokens("alice"), ElementsAre("voip https://push.example/up/1"));
}

TEST_F(ClientApiTest, RegisterIsIdempotentAndRefreshes) {
  const std::string key = Login("alice", CreateUser("alice"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/1"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/2"));
  Advance(absl::Seconds(3));
  HttpResponse r = Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/1"));
  EXPECT_EQ(Parse<wire::v1::RegisterPushTokenResponse>(r).removed(), 0);
  auto list = Parse<wire::v1::PushTokenList>(Admin("GET", "/v1/users/alice/push"));
  ASSERT_EQ(list.tokens_size(), 2);
  EXPECT_EQ(list.tokens(1).token(), "https://push.example/1");
  EXPECT_EQ(list.tokens(1).registered_at(), NowMs());
}

TEST_F(ClientApiTest, UniqueRemovesTheUsersOtherTokensOfThatType) {
  const std::string token = CreateUser("alice");
  const std::string phone = Login("alice", token);
  const std::string laptop = Login("alice", token);
  Session(phone, "POST", "/v1/push/voip", PushBody("https://push.example/phone"));
  Session(phone, "POST", "/v1/push/remote", PushBody("https://push.example/phone-r"));
  Session(laptop, "POST", "/v1/push/voip", PushBody("https://push.example/laptop"));
  HttpResponse r =
      Session(laptop, "POST", "/v1/push/voip", PushBody("https://push.example/new", true));
  EXPECT_EQ(Parse<wire::v1::RegisterPushTokenResponse>(r).removed(), 2);
  EXPECT_THAT(PushTokens("alice"),
              ElementsAre("remote https://push.example/phone-r", "voip https://push.example/new"));
}

TEST_F(ClientApiTest, TwentyFirstTokenEvictsTheOldest) {
  const std::string key = Login("alice", CreateUser("alice"));
  for (int i = 1; i <= 20; ++i) {
    HttpResponse r = Session(key, "POST", "/v1/push/voip",
                             PushBody("https://push.example/" + std::to_string(i)));
    ASSERT_EQ(Parse<wire::v1::RegisterPushTokenResponse>(r).removed(), 0);
  }
  HttpResponse r = Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/21"));
  EXPECT_EQ(Parse<wire::v1::RegisterPushTokenResponse>(r).removed(), 1);
  std::vector<std::string> tokens = PushTokens("alice");
  ASSERT_EQ(tokens.size(), 20u);
  EXPECT_EQ(tokens.front(), "voip https://push.example/2");
  EXPECT_EQ(tokens.back(), "voip https://push.example/21");
  // The other type has its own 20.
  r = Session(key, "POST", "/v1/push/remote", PushBody("https://push.example/r"));
  EXPECT_EQ(Parse<wire::v1::RegisterPushTokenResponse>(r).removed(), 0);
}

TEST_F(ClientApiTest, TokenMovesBetweenUsersOfTheApp) {
  const std::string alice = Login("alice", CreateUser("alice"));
  const std::string bob = Login("bob", CreateUser("bob"));
  Session(alice, "POST", "/v1/push/voip", PushBody("https://push.example/shared"));
  HttpResponse r = Session(bob, "POST", "/v1/push/voip", PushBody("https://push.example/shared"));
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(Parse<wire::v1::RegisterPushTokenResponse>(r).removed(), 0);
  EXPECT_THAT(PushTokens("alice"), ElementsAre());
  EXPECT_THAT(PushTokens("bob"), ElementsAre("voip https://push.example/shared"));
}

TEST_F(ClientApiTest, PushTokenRules) {
  const std::string key = Login("alice", CreateUser("alice"));
  const std::string host = "https://push.example/";
  EXPECT_EQ(Session(key, "POST", "/v1/push/voip",
                    PushBody(host + std::string(1000 - host.size(), 'a')))
                .http_status,
            200);
  struct Case {
    std::string token;
    std::string message;
  };
  const std::vector<Case> cases = {
      {host + std::string(1001 - host.size(), 'a'), "token: 1001 bytes is over the limit of 1000"},
      {"push.example/abc", "token: must be an http:// or https:// URL"},
      {"ftp://push.example/abc", "token: must be an http:// or https:// URL"},
      {"wss://push.example/abc", "token: must be an http:// or https:// URL"},
      {"https://push.example/a b", "token: must be printable ASCII (a URL)"},
      {"https://push.example/é", "token: must be printable ASCII (a URL)"},
      {"https:///path", "token: URL has no host"},
      {"https://push.example//a",
       "token: URL must not contain \"//\" or \".\" / \"..\" segments after the host"},
      {"https://push.example/a/../b",
       "token: URL must not contain \"//\" or \".\" / \"..\" segments after the host"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Session(key, "POST", "/v1/push/voip", PushBody(c.token));
    EXPECT_EQ(r.http_status, 400) << c.token;
    EXPECT_EQ(r.body, Error(kCodeInvalidParams, c.message)) << c.token;
  }
  EXPECT_EQ(Session(key, "POST", "/v1/push/voip", PushBody("")).body,
            Error(kCodeMissingParams, "token is required"));
  EXPECT_EQ(Session(key, "POST", "/v1/push/voip", "{}").body,
            Error(kCodeMissingParams, "token is required"));
}

TEST_F(ClientApiTest, UnknownPushType) {
  const std::string key = Login("alice", CreateUser("alice"));
  const std::string type_error = Error(kCodeInvalidParams, "type: must be voip or remote");
  EXPECT_EQ(Session(key, "POST", "/v1/push/fcm", PushBody("https://push.example/a")).body,
            type_error);
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/fcm").body, type_error);
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/fcm/x").body, type_error);
}

TEST_F(ClientApiTest, UnregisterOneToken) {
  const std::string key = Login("alice", CreateUser("alice"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/up/1?k=v"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/up/2"));
  Session(key, "POST", "/v1/push/remote", PushBody("https://push.example/up/1?k=v"));
  // The path as the transport hands it over: percent-decoded, "//" collapsed.
  HttpResponse r = Session(key, "DELETE", "/v1/push/voip/https:/push.example/up/1?k=v");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_THAT(PushTokens("alice"), ElementsAre("voip https://push.example/up/2",
                                               "remote https://push.example/up/1?k=v"));
  // A path that kept its "//" works the same.
  r = Session(key, "DELETE", "/v1/push/voip/https://push.example/up/2");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_THAT(PushTokens("alice"), ElementsAre("remote https://push.example/up/1?k=v"));
  // Not registered (any more): still 200, so that retries succeed.
  r = Session(key, "DELETE", "/v1/push/voip/https:/push.example/up/2");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");
}

TEST_F(ClientApiTest, UnregisterDoesNotTouchOtherUsers) {
  const std::string alice = Login("alice", CreateUser("alice"));
  const std::string bob = Login("bob", CreateUser("bob"));
  Session(bob, "POST", "/v1/push/voip", PushBody("https://push.example/bob"));
  EXPECT_EQ(Session(alice, "DELETE", "/v1/push/voip/https:/push.example/bob").http_status, 200);
  EXPECT_EQ(Session(alice, "DELETE", "/v1/push/voip").http_status, 200);
  EXPECT_THAT(PushTokens("bob"), ElementsAre("voip https://push.example/bob"));
}

TEST_F(ClientApiTest, UnregisterAllOfAType) {
  const std::string key = Login("alice", CreateUser("alice"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/1"));
  Session(key, "POST", "/v1/push/voip", PushBody("https://push.example/2"));
  Session(key, "POST", "/v1/push/remote", PushBody("https://push.example/3"));
  HttpResponse r = Session(key, "DELETE", "/v1/push/voip");
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "{}");
  EXPECT_THAT(PushTokens("alice"), ElementsAre("remote https://push.example/3"));
  EXPECT_EQ(Session(key, "DELETE", "/v1/push/voip").http_status, 200);
}

TEST_F(ClientApiTest, SecretsAreStoredOnlyAsHashes) {
  const std::string access = CreateUser("alice");
  auto session_token = Parse<wire::v1::SessionToken>(Admin("POST", "/v1/users/alice/token"));
  const std::string key1 = Login("alice", access);
  const std::string key2 = Login("alice", session_token.token());
  store_.reset();  // flush and close
  std::string bytes;
  for (const char* name : {"calls.db", "calls.db-wal"}) {
    std::ifstream file(dir_.File(name), std::ios::binary);
    bytes += std::string(std::istreambuf_iterator<char>(file), {});
  }
  ASSERT_FALSE(bytes.empty());
  for (const std::string& secret : {access, session_token.token(), key1, key2}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos);
    EXPECT_NE(bytes.find(Sha256Hex(secret)), std::string::npos);
  }
}

}  // namespace
}  // namespace callsd::server::testing
