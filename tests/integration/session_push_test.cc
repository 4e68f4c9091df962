// Session tokens, push-token registration and logout that really stops
// pushes (issue 3), with the real calls-server, callsd and callsctl.
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "wire/v1/wire.pb.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kVoip1[] = "https://push.example.com/up/device-1";
constexpr char kVoip2[] = "https://push.example.com/up/device-2";
constexpr char kRemote1[] = "https://push.example.com/up/remote-1";

class SessionPushTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    ASSERT_EQ(Ctl({"init", "demo-app"}).exit_code, 0);
  }

  void LoginAlice() {
    CommandResult login = Ctl({"login", "alice", "--token-file", server_.token_file("alice")});
    ASSERT_EQ(login.exit_code, 0) << login.err;
  }

  // A session token for `user` from the admin API, expiring in `ttl`.
  std::string IssueSessionToken(const std::string& user, absl::Duration ttl) {
    wire::v1::IssueSessionTokenRequest request;
    request.set_expires_at(absl::ToUnixMillis(absl::Now() + ttl));
    auto [code, body] = server_.Admin("POST", "/v1/users/" + user + "/token", ToJson(request));
    EXPECT_EQ(code, 200) << body;
    auto token = ParseJson<wire::v1::SessionToken>(body);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token() : "";
  }

  // The push tokens the server holds for `user`, as "type token".
  std::vector<std::string> ServerPushTokens(ServerProcess& server, const std::string& user = "alice") {
    auto [code, body] = server.Admin("GET", "/v1/users/" + user + "/push");
    EXPECT_EQ(code, 200) << body;
    auto list = ParseJson<wire::v1::PushTokenList>(body);
    std::vector<std::string> out;
    if (!list.ok()) return out;
    for (const auto& t : list->tokens()) out.push_back(t.type() + " " + t.token());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> ServerPushTokens() { return ServerPushTokens(server_); }

};

// --- Session tokens -----------------------------------------------------------------

TEST_F(SessionPushTest, SessionTokenWarnsAndRefreshContinuesWithoutAGap) {
  EXPECT_EQ(daemon_.Stop(), 0);
  // The warning comes 2 s after login; the refresh then has 10 s before
  // the first token expires (room for a sanitizer build's slowness).
  daemon_.extra_args().push_back("--set=session.refresh_lead_s = 10");
  ASSERT_TRUE(daemon_.Start());
  Watcher watcher(daemon_, dir_.path());
  const absl::Time first_expires = absl::Now() + absl::Seconds(12);
  const std::string first = IssueSessionToken("alice", absl::Seconds(12));
  CommandResult login = Ctl({"login", "alice", "--session-token", "--token-stdin"}, first + "\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_THAT(StatusJson(), HasSubstr("TOKEN_KIND_SESSION_TOKEN"));
  EXPECT_THAT(StatusJson(), HasSubstr("token_expires_at"));

  ASSERT_TRUE(watcher.WaitForLine("session_token_will_expire", absl::Seconds(10)));
  EXPECT_FALSE(watcher.WaitForLine("session_token_required", absl::Milliseconds(1)));
  WriteFile(dir_ / "g.token", IssueSessionToken("alice", absl::Hours(1)) + "\n");
  const size_t before_refresh = watcher.Lines().size();
  CommandResult refresh = Ctl({"refresh-token", "--token-file", dir_ / "g.token"});
  ASSERT_EQ(refresh.exit_code, 0) << refresh.err;
  ASSERT_LT(absl::Now(), first_expires) << "refreshed too late to show there is no gap";
  // Past the first token's expiry the session goes on.
  EXPECT_FALSE(watcher.WaitForLine("session_token_required",
                                   first_expires - absl::Now() + absl::Seconds(1)));
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_AUTHENTICATED"));
  const std::vector<std::string> lines = watcher.Lines();
  for (size_t i = before_refresh; i < lines.size(); ++i) {
    EXPECT_THAT(lines[i], Not(HasSubstr("session_state_changed"))) << "a gap: " << lines[i];
  }
}

TEST_F(SessionPushTest, ExpiryWithoutRefreshRequiresATokenThenRefreshRestores) {
  Watcher watcher(daemon_, dir_.path());
  const std::string token = IssueSessionToken("alice", absl::Seconds(2));
  ASSERT_EQ(Ctl({"login", "alice", "--session-token", "--token-stdin"}, token).exit_code, 0);
  ASSERT_TRUE(watcher.WaitForLine("session_token_required", absl::Seconds(10)));
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_TOKEN_REQUIRED"));
  EXPECT_THAT(StatusJson(), HasSubstr("400309"));
  // The same expired token is refused with the server's code.
  CommandResult stale = Ctl({"refresh-token", "--token-stdin"}, token);
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_THAT(stale.err, HasSubstr("400309"));
  CommandResult fresh =
      Ctl({"refresh-token", "--token-stdin"}, IssueSessionToken("alice", absl::Hours(1)));
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_AUTHENTICATED"));
}

TEST_F(SessionPushTest, AccessTokensDoNotExpire) {
  LoginAlice();
  const std::string json = StatusJson();
  EXPECT_THAT(json, HasSubstr("TOKEN_KIND_ACCESS_TOKEN"));
  EXPECT_THAT(json, Not(HasSubstr("token_expires_at")));
  CommandResult refresh =
      Ctl({"refresh-token", "--token-stdin"}, IssueSessionToken("alice", absl::Hours(1)));
  // A refresh of an access-token session is allowed: it switches to the token.
  EXPECT_EQ(refresh.exit_code, 0) << refresh.err;
}

TEST_F(SessionPushTest, RevocationIsSeenOnTheNextServerRequest) {
  Watcher watcher(daemon_, dir_.path());
  ASSERT_EQ(Ctl({"login", "alice", "--session-token", "--token-stdin"},
                IssueSessionToken("alice", absl::Hours(1)))
                .exit_code,
            0);
  auto [code, body] = server_.Admin("DELETE", "/v1/users/alice/token");
  ASSERT_EQ(code, 200) << body;
  // Nothing happens until the daemon talks to the server...
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_AUTHENTICATED"));
  CommandResult reg = Ctl({"push", "register", "voip", kVoip1});
  EXPECT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_THAT(reg.out, HasSubstr("PENDING"));
  // ... then it knows, and says so.
  ASSERT_TRUE(watcher.WaitForLine("session_token_required"));
  EXPECT_TRUE(watcher.WaitForLine("400310"));
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_TOKEN_REQUIRED"));
  // A revoked token is refused at login with the server's code and a sentence.
  CommandResult relogin = Ctl({"logout"});
  EXPECT_EQ(relogin.exit_code, 0) << relogin.err;
}

TEST_F(SessionPushTest, ExpiredOrRevokedTokenAtLoginShowsTheServerCode) {
  const std::string revoked = IssueSessionToken("alice", absl::Hours(1));
  ASSERT_EQ(server_.Admin("DELETE", "/v1/users/alice/token").first, 200);
  CommandResult login = Ctl({"login", "alice", "--session-token", "--token-stdin"}, revoked);
  EXPECT_EQ(login.exit_code, 1);
  EXPECT_THAT(login.err, HasSubstr("400310"));
  EXPECT_THAT(login.err, HasSubstr("revoked"));
}

TEST_F(SessionPushTest, MalformedRefreshTokenIsInvalidArgument) {
  LoginAlice();
  CommandResult spaced = Ctl({"refresh-token", "--token-stdin"}, "two words\n");
  EXPECT_EQ(spaced.exit_code, 1);
  EXPECT_THAT(spaced.err, HasSubstr("token"));
  CommandResult empty = Ctl({"refresh-token", "--token-stdin"}, "\n");
  EXPECT_EQ(empty.exit_code, 2) << "callsctl refuses an empty token itself";
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_AUTHENTICATED"));
}

// --- Push tokens ----------------------------------------------------------------------

TEST_F(SessionPushTest, RegisterListAndUnregisterMatchTheServer) {
  LoginAlice();
  CommandResult voip = Ctl({"push", "register", "voip", kVoip1, "--unique"});
  ASSERT_EQ(voip.exit_code, 0) << voip.err;
  EXPECT_THAT(voip.out, HasSubstr("REGISTERED"));
  ASSERT_EQ(Ctl({"push", "register", "remote", kRemote1}).exit_code, 0);
  EXPECT_THAT(ServerPushTokens(),
              ::testing::ElementsAre(std::string("remote ") + kRemote1,
                                     std::string("voip ") + kVoip1));
  CommandResult list = Ctl({"push", "list"});
  EXPECT_THAT(list.out, HasSubstr(kVoip1));
  EXPECT_THAT(list.out, HasSubstr(kRemote1));
  EXPECT_THAT(list.out, HasSubstr("REGISTERED"));

  ASSERT_EQ(Ctl({"push", "unregister", "remote", kRemote1}).exit_code, 0);
  EXPECT_THAT(ServerPushTokens(), ::testing::ElementsAre(std::string("voip ") + kVoip1));
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip2}).exit_code, 0);
  ASSERT_EQ(Ctl({"push", "unregister-all", "voip"}).exit_code, 0);
  EXPECT_TRUE(ServerPushTokens().empty());
  EXPECT_THAT(Ctl({"push", "list"}).out, Not(HasSubstr("push.example.com")));
}

TEST_F(SessionPushTest, BadPushTokensAreRefusedWithTheReason) {
  LoginAlice();
  CommandResult ftp = Ctl({"push", "register", "voip", "ftp://push.example.com/x"});
  EXPECT_EQ(ftp.exit_code, 1);
  EXPECT_THAT(ftp.err, HasSubstr("http"));
  CommandResult huge =
      Ctl({"push", "register", "voip", "https://push.example.com/" + std::string(1000, 'a')});
  EXPECT_EQ(huge.exit_code, 1);
  EXPECT_THAT(huge.err, HasSubstr("1000"));
  CommandResult not_url = Ctl({"push", "register", "voip", "device-token-123"});
  EXPECT_EQ(not_url.exit_code, 1);
  EXPECT_THAT(not_url.err, HasSubstr("token"));
  EXPECT_TRUE(ServerPushTokens().empty());
}

TEST_F(SessionPushTest, RestartRegistersStoredTokensAgainEvenIfTheServerForgot) {
  LoginAlice();
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip1}).exit_code, 0);
  EXPECT_EQ(daemon_.Stop(), 0);
  // The server forgets it (unregistered behind the daemon's back).
  const std::string session_key = daemon_.StoredSessionKey();
  ASSERT_FALSE(session_key.empty());
  auto [code, body] = server_.Client("DELETE", "/v1/push/voip",
                                     {{"App-Id", "demo-app"}, {"Session-Key", session_key}});
  ASSERT_EQ(code, 200) << body;
  ASSERT_TRUE(ServerPushTokens().empty());

  ASSERT_TRUE(daemon_.Start());
  EXPECT_TRUE(WaitFor([&] { return ServerPushTokens().size() == 1; }))
      << "the daemon registers its stored tokens after re-authenticating";
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(Ctl({"push", "list"}).out, "REGISTERED"); }));
}

TEST_F(SessionPushTest, LogoutUnregistersThisDevicesTokensByDefault) {
  LoginAlice();
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip1}).exit_code, 0);
  CommandResult logout = Ctl({"logout"});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_TRUE(ServerPushTokens().empty());
  // Kept as this device's token; registered again at the next login.
  EXPECT_THAT(Ctl({"push", "list"}).out, HasSubstr("PENDING"));
  LoginAlice();
  EXPECT_TRUE(WaitFor([&] { return ServerPushTokens().size() == 1; }));
}

TEST_F(SessionPushTest, LogoutCanKeepPushTokens) {
  LoginAlice();
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip1}).exit_code, 0);
  ASSERT_EQ(Ctl({"logout", "--keep-push-tokens"}).exit_code, 0);
  EXPECT_THAT(ServerPushTokens(), ::testing::ElementsAre(std::string("voip ") + kVoip1));
}

TEST_F(SessionPushTest, LogoutWhileServerIsDownIsRetriedAcrossARestart) {
  LoginAlice();
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip1}).exit_code, 0);
  ASSERT_EQ(ServerPushTokens().size(), 1u);
  server_.Stop();

  const absl::Time start = absl::Now();
  CommandResult logout = Ctl({"logout"});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(12)) << "bounded by the request timeout";
  EXPECT_THAT(logout.out, HasSubstr("LOGGED_OUT"));
  const std::string json = StatusJson();
  EXPECT_THAT(json, HasSubstr("SESSION_STATE_LOGGED_OUT"));
  EXPECT_THAT(json, Not(HasSubstr("alice"))) << "local user info is gone at once";
  EXPECT_THAT(Ctl({"push", "list"}).out, HasSubstr("2 unregistrations"));  // token + session

  // Restarted while the server is still away: the work is kept.
  EXPECT_EQ(daemon_.Stop(), 0);
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(server_.Start());  // same port and database: it still has the token
  EXPECT_TRUE(WaitFor([&] { return ServerPushTokens().empty(); }, absl::Seconds(15)))
      << "the logged-out user must stop being pushed to this device";
  EXPECT_TRUE(WaitFor([&] {
    return !absl::StrContains(Ctl({"push", "list"}).out, "unregistration");
  }));
}

TEST_F(SessionPushTest, UniqueOnOneDeviceRemovesTheOtherDevicesToken) {
  LoginAlice();
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip1}).exit_code, 0);
  TempDir dir2;
  DaemonProcess device2(dir2.path(), server_.url());
  ASSERT_TRUE(device2.Start());
  ASSERT_EQ(device2.Ctl({"init", "demo-app"}).exit_code, 0);
  ASSERT_EQ(device2.Ctl({"login", "alice", "--token-file", server_.token_file("alice")}).exit_code,
            0);
  ASSERT_EQ(device2.Ctl({"push", "register", "voip", kVoip2}).exit_code, 0);
  EXPECT_EQ(ServerPushTokens().size(), 2u);
  ASSERT_EQ(device2.Ctl({"push", "register", "voip", kVoip2, "--unique"}).exit_code, 0);
  EXPECT_THAT(ServerPushTokens(), ::testing::ElementsAre(std::string("voip ") + kVoip2));
  EXPECT_EQ(device2.Stop(), 0);
}

TEST_F(SessionPushTest, AppChangeUnregistersFromTheOldAppThenWipes) {
  LoginAlice();
  ASSERT_EQ(Ctl({"push", "register", "voip", kVoip1}).exit_code, 0);
  ASSERT_EQ(Ctl({"init", "other-app"}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return ServerPushTokens().empty(); }));
  EXPECT_THAT(Ctl({"push", "list"}).out, Not(HasSubstr(kVoip1)));
  EXPECT_THAT(StatusJson(), HasSubstr("\"app_id\": \"other-app\""));
}

}  // namespace
}  // namespace callsd::itest
