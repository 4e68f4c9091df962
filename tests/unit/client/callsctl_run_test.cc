// callsctl commands end to end against a fake Client: the requests sent,
// stdout, stderr and the exit status.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client-lib/callsctl/callsctl.h"
#include "fake_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 1, 2, 15, 0, 0), absl::UTCTimeZone());
constexpr char kSecret[] = "s3cr3t-access-token";

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

class CallsctlRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.in = &in_;
    env_.out = &out_;
    env_.err = &err_;
    env_.connect = [this](const client::ClientOptions& options)
        -> absl::StatusOr<std::unique_ptr<client::Client>> {
      ++daemon_.connects;
      daemon_.connect_options = options;
      if (!daemon_.connect_error.ok()) return daemon_.connect_error;
      return std::make_unique<testing::FakeClient>(&daemon_);
    };
    env_.now = [] { return kNow; };
    env_.zone = absl::UTCTimeZone();
  }

  void TearDown() override {
    if (!token_file_.empty()) unlink(token_file_.c_str());
  }

  int Run(const std::vector<std::string>& args) { return RunCallsctl(args, env_); }

  std::string TokenFile(const std::string& content) {
    char tmpl[] = "/tmp/callsctl-run-XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    close(fd);
    token_file_ = tmpl;
    std::ofstream(token_file_) << content;
    return token_file_;
  }

  void ExpectSecretNeverPrinted() {
    EXPECT_THAT(out_.str(), Not(HasSubstr(kSecret)));
    EXPECT_THAT(err_.str(), Not(HasSubstr(kSecret)));
  }

  testing::FakeDaemon daemon_;
  std::istringstream in_;
  std::ostringstream out_, err_;
  CallsctlEnv env_;
  std::string token_file_;
};

TEST_F(CallsctlRunTest, StatusHuman) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  state.mutable_user()->set_user_id("alice");
  state.set_token_kind(v1::TOKEN_KIND_SESSION_TOKEN);
  *state.mutable_token_expires_at() = Ts(kNow + absl::Seconds(118));
  daemon_.state = state;
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "app id:        demo-app\n"
            "state:         AUTHENTICATED\n"
            "user:          alice\n"
            "token kind:    SESSION_TOKEN\n"
            "token expires: 2025-01-02 15:01:58 UTC (in 1m 58s)\n"
            "push tokens:   none\n"
            "event seq:     0\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CallsctlRunTest, StatusJson) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_LOGGED_OUT);
  daemon_.state = state;
  EXPECT_EQ(Run({"--json", "status"}), kExitOk);
  EXPECT_THAT(out_.str(), StartsWith("{"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("session_state": "SESSION_STATE_LOGGED_OUT")"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("app_id": "demo-app")"));
  EXPECT_EQ(out_.str().back(), '\n');
}

TEST_F(CallsctlRunTest, GlobalOptionsReachConnect) {
  EXPECT_EQ(Run({"status", "--socket", "/run/x.sock", "--timeout", "1.5"}), kExitOk);
  ASSERT_TRUE(daemon_.connect_options.has_value());
  EXPECT_EQ(daemon_.connect_options->socket_path, "/run/x.sock");
  EXPECT_EQ(daemon_.connect_options->deadline, absl::Milliseconds(1500));

  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_EQ(daemon_.connect_options->socket_path, "");  // The library's default.
  EXPECT_EQ(daemon_.connect_options->deadline, absl::Seconds(30));
}

TEST_F(CallsctlRunTest, InitMessages) {
  v1::InitResponse response;
  response.set_changed(true);
  daemon_.init = response;
  EXPECT_EQ(Run({"init", "demo-app"}), kExitOk);
  EXPECT_EQ(daemon_.init_request.app_id(), "demo-app");
  EXPECT_EQ(out_.str(), "initialized demo-app\n");

  out_.str("");
  response.set_previous_app_id("old-app");
  daemon_.init = response;
  EXPECT_EQ(Run({"init", "demo-app"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "initialized demo-app (replaced old-app: its user, session, push tokens and calls "
            "were cleared)\n");

  out_.str("");
  daemon_.init = v1::InitResponse();
  EXPECT_EQ(Run({"init", "demo-app"}), kExitOk);
  EXPECT_EQ(out_.str(), "demo-app was already initialized (no change)\n");
}

TEST_F(CallsctlRunTest, LoginWithTokenFile) {
  v1::AuthenticateResponse response;
  response.mutable_user()->set_user_id("alice");
  response.mutable_state()->set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  daemon_.authenticate = response;
  EXPECT_EQ(Run({"login", "alice", "--token-file", TokenFile(std::string(kSecret) + "\n")}),
            kExitOk);
  EXPECT_EQ(daemon_.authenticate_request.user_id(), "alice");
  EXPECT_EQ(daemon_.authenticate_request.token(), kSecret);
  EXPECT_EQ(daemon_.authenticate_request.token_kind(), v1::TOKEN_KIND_ACCESS_TOKEN);
  EXPECT_EQ(out_.str(), "logged in as alice (AUTHENTICATED)\n");
  ExpectSecretNeverPrinted();
}

TEST_F(CallsctlRunTest, LoginWithSessionTokenFromStdin) {
  v1::AuthenticateResponse response;
  response.mutable_user()->set_user_id("bob");
  response.mutable_state()->set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  *response.mutable_state()->mutable_token_expires_at() = Ts(kNow + absl::Hours(1));
  daemon_.authenticate = response;
  in_.str(std::string(kSecret) + "\r\n");
  EXPECT_EQ(Run({"login", "bob", "--token-stdin", "--session-token"}), kExitOk);
  EXPECT_EQ(daemon_.authenticate_request.token(), kSecret);
  EXPECT_EQ(daemon_.authenticate_request.token_kind(), v1::TOKEN_KIND_SESSION_TOKEN);
  EXPECT_EQ(out_.str(),
            "logged in as bob (AUTHENTICATED), session token expires 2025-01-02 16:00:00 UTC "
            "(in 1h)\n");
  ExpectSecretNeverPrinted();
}

TEST_F(CallsctlRunTest, LoginJsonPrintsTheResponseNotTheToken) {
  v1::AuthenticateResponse response;
  response.mutable_user()->set_user_id("alice");
  daemon_.authenticate = response;
  in_.str(kSecret);
  EXPECT_EQ(Run({"login", "alice", "--token-stdin", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("user_id": "alice")"));
  ExpectSecretNeverPrinted();
}

TEST_F(CallsctlRunTest, EmptyTokenIsAUsageErrorAndContactsNobody) {
  in_.str("\n");
  EXPECT_EQ(Run({"login", "alice", "--token-stdin"}), kExitUsage);
  EXPECT_EQ(err_.str(), "callsctl: login: the token on standard input is empty\n");
  EXPECT_EQ(daemon_.connects, 0);
}

TEST_F(CallsctlRunTest, MissingTokenFileIsAUsageError) {
  EXPECT_EQ(Run({"refresh-token", "--token-file", "/nonexistent/token"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "callsctl: refresh-token: cannot read the token file /nonexistent/token: No such "
            "file or directory\n");
  EXPECT_EQ(daemon_.connects, 0);
}

TEST_F(CallsctlRunTest, LoginRejectedShowsCodeAndHint) {
  v1::ErrorInfo info;
  info.set_calls_code(400302);
  info.set_message("invalid access token");
  info.set_field("token");
  info.set_hint("ask the app's backend for a new access token");
  daemon_.authenticate =
      client::WithErrorInfo(absl::UnauthenticatedError("invalid access token"), info);
  in_.str(kSecret);
  EXPECT_EQ(Run({"login", "alice", "--token-stdin"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "callsctl: login: invalid access token (Calls code 400302)\n"
            "field: token\n"
            "hint: ask the app's backend for a new access token\n");
  ExpectSecretNeverPrinted();
}

TEST_F(CallsctlRunTest, ConnectionErrorExitsWithOneAndTheHint) {
  v1::ErrorInfo info;
  info.set_hint("start callsd");
  daemon_.connect_error = client::WithErrorInfo(
      absl::UnavailableError("callsd is not running: socket /x does not exist"), info);
  EXPECT_EQ(Run({"status"}), kExitError);
  EXPECT_EQ(err_.str(),
            "callsctl: status: callsd is not running: socket /x does not exist\n"
            "hint: start callsd\n");
}

TEST_F(CallsctlRunTest, Logout) {
  v1::DeauthenticateResponse response;
  response.set_server_confirmed(true);
  response.mutable_state()->set_session_state(v1::SESSION_STATE_LOGGED_OUT);
  daemon_.deauthenticate = response;
  EXPECT_EQ(Run({"logout"}), kExitOk);
  EXPECT_FALSE(daemon_.deauthenticate_request.keep_push_tokens());
  EXPECT_EQ(out_.str(), "logged out (LOGGED_OUT)\n");

  out_.str("");
  response.set_server_confirmed(false);
  response.set_pending_operations(2);
  daemon_.deauthenticate = response;
  EXPECT_EQ(Run({"logout", "--keep-push-tokens"}), kExitOk);
  EXPECT_TRUE(daemon_.deauthenticate_request.keep_push_tokens());
  EXPECT_EQ(out_.str(),
            "logged out (LOGGED_OUT); the server has not confirmed yet: 2 clean-ups queued and "
            "retried in the background\n");
}

TEST_F(CallsctlRunTest, RefreshToken) {
  v1::RefreshSessionTokenResponse response;
  *response.mutable_expires_at() = Ts(kNow + absl::Minutes(59) + absl::Seconds(59));
  response.mutable_state()->set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  daemon_.refresh = response;
  EXPECT_EQ(Run({"refresh-token", "--token-file", TokenFile(kSecret)}), kExitOk);
  EXPECT_EQ(daemon_.refresh_request.token(), kSecret);
  EXPECT_EQ(out_.str(),
            "session token refreshed (AUTHENTICATED), expires 2025-01-02 15:59:59 UTC (in 59m "
            "59s)\n");
  ExpectSecretNeverPrinted();
}

TEST_F(CallsctlRunTest, PushRegister) {
  v1::RegisterPushTokenResponse response;
  response.mutable_token()->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
  daemon_.register_push = response;
  EXPECT_EQ(Run({"push", "register", "voip", "https://push.example/1", "--unique"}), kExitOk);
  EXPECT_EQ(daemon_.register_request.type(), v1::PUSH_TOKEN_TYPE_VOIP);
  EXPECT_EQ(daemon_.register_request.token(), "https://push.example/1");
  EXPECT_TRUE(daemon_.register_request.unique());
  EXPECT_EQ(out_.str(), "registered voip token (REGISTERED)\n");

  out_.str("");
  response.mutable_token()->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_PENDING);
  daemon_.register_push = response;
  EXPECT_EQ(Run({"push", "register", "remote", "https://push.example/2"}), kExitOk);
  EXPECT_FALSE(daemon_.register_request.unique());
  EXPECT_EQ(out_.str(), "registered remote token (PENDING: not confirmed by the server yet)\n");
}

TEST_F(CallsctlRunTest, PushUnregister) {
  v1::UnregisterPushTokenResponse response;
  response.set_server_confirmed(true);
  daemon_.unregister_push = response;
  EXPECT_EQ(Run({"push", "unregister", "voip", "https://push.example/1"}), kExitOk);
  EXPECT_EQ(daemon_.unregister_request.type(), v1::PUSH_TOKEN_TYPE_VOIP);
  EXPECT_EQ(daemon_.unregister_request.token(), "https://push.example/1");
  EXPECT_EQ(out_.str(), "unregistered voip token\n");

  out_.str("");
  daemon_.unregister_all = v1::UnregisterAllPushTokensResponse();  // Not confirmed.
  EXPECT_EQ(Run({"push", "unregister-all", "remote"}), kExitOk);
  EXPECT_EQ(daemon_.unregister_all_request.type(), v1::PUSH_TOKEN_TYPE_REMOTE);
  EXPECT_EQ(out_.str(),
            "unregistered all remote tokens (the server will be told when it can be reached)\n");
}

TEST_F(CallsctlRunTest, PushListHumanAndJson) {
  v1::ListPushTokensResponse response;
  v1::PushToken* token = response.add_tokens();
  token->set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  token->set_token("https://push.example/1");
  token->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
  daemon_.list_push = response;
  EXPECT_EQ(Run({"push", "list"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "TYPE  STATE       UPDATED  TOKEN\n"
            "voip  REGISTERED  -        https://push.example/1\n");

  out_.str("");
  EXPECT_EQ(Run({"push", "list", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("type": "PUSH_TOKEN_TYPE_VOIP")"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("pending_unregistrations": 0)"));
}

TEST_F(CallsctlRunTest, PermissionDeniedNamesTheTier) {
  v1::ErrorInfo info;
  info.set_tier("admin");
  info.set_hint("run as root or as a configured operator");
  daemon_.list_push = client::WithErrorInfo(
      absl::PermissionDeniedError("RegisterPushToken needs the admin tier"), info);
  EXPECT_EQ(Run({"push", "list"}), kExitError);
  EXPECT_EQ(err_.str(),
            "callsctl: push list: RegisterPushToken needs the admin tier\n"
            "needs the admin tier\n"
            "hint: run as root or as a configured operator\n");
}

TEST_F(CallsctlRunTest, HelpGoesToStdoutAndContactsNobody) {
  EXPECT_EQ(Run({"help", "login"}), kExitOk);
  EXPECT_THAT(out_.str(), StartsWith("usage: callsctl login USER"));
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(daemon_.connects, 0);
}

std::vector<v1::Event> ThreeEvents() {
  std::vector<v1::Event> events(3);
  for (int i = 0; i < 3; ++i) {
    events[i].set_seq(10 + i);
    *events[i].mutable_time() = Ts(kNow);
  }
  events[0].mutable_snapshot()->set_app_id("demo-app");
  events[0].mutable_snapshot()->set_session_state(v1::SESSION_STATE_LOGGED_OUT);
  events[1].mutable_session_state_changed()->set_previous(v1::SESSION_STATE_LOGGED_OUT);
  events[1].mutable_session_state_changed()->set_state(v1::SESSION_STATE_AUTHENTICATING);
  events[2].mutable_app_changed()->set_app_id("other");
  events[2].mutable_app_changed()->set_previous_app_id("demo-app");
  return events;
}

TEST_F(CallsctlRunTest, WatchPrintsEventsUntilTheStreamEndsWithAnError) {
  daemon_.events = ThreeEvents();
  v1::ErrorInfo info;
  info.set_hint("watch again");
  daemon_.watch_end = client::WithErrorInfo(
      absl::ResourceExhaustedError("watcher fell behind by 1024 events"), info);
  EXPECT_EQ(Run({"watch"}), kExitError);
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n');
  EXPECT_THAT(lines,
              ElementsAre("2025-01-02 15:00:00.000  #10  snapshot  app=demo-app state=LOGGED_OUT",
                          "2025-01-02 15:00:00.000  #11  session_state_changed  LOGGED_OUT -> "
                          "AUTHENTICATING",
                          "2025-01-02 15:00:00.000  #12  app_changed  demo-app -> other", ""));
  EXPECT_EQ(err_.str(),
            "callsctl: watch: watcher fell behind by 1024 events\n"
            "hint: watch again\n");
}

TEST_F(CallsctlRunTest, WatchJsonIsOneObjectPerLine) {
  daemon_.events = ThreeEvents();
  daemon_.watch_end = absl::OkStatus();
  EXPECT_EQ(Run({"watch", "--json"}), kExitOk);
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith(R"({"seq":"10",)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("time":"2025-01-02T15:00:00Z")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("snapshot":{"app_id":"demo-app")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("state":"SESSION_STATE_AUTHENTICATING")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("app_changed":{"app_id":"other","previous_app_id":"demo-app"})"));
  EXPECT_EQ(err_.str(), "callsctl: watch: the daemon ended the stream\n");
}

TEST_F(CallsctlRunTest, WatchStopsOnInterruptWithExitZero) {
  InterruptLatch latch;
  env_.interrupt = &latch;
  daemon_.events = ThreeEvents();
  // "Ctrl-C" once the events are out; the stream itself stays open.
  daemon_.after_events = [&latch] { EXPECT_TRUE(latch.Trigger()) << "watch armed the latch"; };
  EXPECT_EQ(Run({"watch"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("#12  app_changed"));
  EXPECT_EQ(err_.str(), "");
}

TEST(InterruptLatchTest, TriggerReportsWhetherArmed) {
  InterruptLatch latch;
  EXPECT_FALSE(latch.Trigger());
  latch.Wait();  // Already triggered: returns at once.
  InterruptLatch armed;
  armed.Arm();
  EXPECT_TRUE(armed.Trigger());
}

}  // namespace
}  // namespace callsd::ctl
