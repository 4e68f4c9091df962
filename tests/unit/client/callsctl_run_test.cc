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
#include "client-lib/callsctl/payload.h"
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

// ---------------------------------------------------------------------------
// Calls

v1::Call Incoming(const std::string& id, v1::CallState state) {
  v1::Call call;
  call.set_call_id(id);
  call.set_direction(v1::CALL_DIRECTION_INCOMING);
  call.mutable_caller()->set_user_id("alice");
  call.mutable_callee()->set_user_id("me");
  *call.mutable_peer() = call.caller();
  call.set_state(state);
  return call;
}

v1::Call Outgoing(const std::string& id, v1::CallState state) {
  v1::Call call;
  call.set_call_id(id);
  call.set_direction(v1::CALL_DIRECTION_OUTGOING);
  call.mutable_caller()->set_user_id("me");
  call.mutable_callee()->set_user_id("bob");
  *call.mutable_peer() = call.callee();
  call.set_state(state);
  return call;
}

TEST_F(CallsctlRunTest, DialPrintsTheCallIdAndState) {
  v1::DialResponse response;
  *response.mutable_call() = Outgoing("3f2a9c", v1::CALL_STATE_DIALING);
  daemon_.dial = response;
  EXPECT_EQ(Run({"dial", "bob"}), kExitOk);
  EXPECT_THAT(daemon_.calls, ElementsAre("Dial"));
  EXPECT_EQ(daemon_.dial_request.callee_id(), "bob");
  EXPECT_FALSE(daemon_.dial_request.video());
  EXPECT_EQ(out_.str(), "calling bob: call 3f2a9c (DIALING)\n");
  EXPECT_EQ(err_.str(), "");

  out_.str("");
  response.mutable_call()->set_state(v1::CALL_STATE_RINGING);
  daemon_.dial = response;
  EXPECT_EQ(Run({"dial", "bob", "--video"}), kExitOk);
  EXPECT_TRUE(daemon_.dial_request.video());
  EXPECT_EQ(out_.str(), "calling bob (video): call 3f2a9c (RINGING)\n");
}

TEST_F(CallsctlRunTest, DialJsonPrintsTheResponse) {
  v1::DialResponse response;
  *response.mutable_call() = Outgoing("3f2a9c", v1::CALL_STATE_DIALING);
  daemon_.dial = response;
  EXPECT_EQ(Run({"--json", "dial", "bob"}), kExitOk);
  EXPECT_THAT(out_.str(), StartsWith("{\n"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("call_id": "3f2a9c")"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("state": "CALL_STATE_DIALING")"));
  EXPECT_EQ(out_.str().back(), '\n');
}

TEST_F(CallsctlRunTest, DialErrorShowsCodeAndHint) {
  v1::ErrorInfo info;
  info.set_calls_code(1400103);
  info.set_message("callee does not exist");
  info.set_field("callee_id");
  info.set_hint("check the user id");
  daemon_.dial =
      client::WithErrorInfo(absl::NotFoundError("callee does not exist"), info);
  EXPECT_EQ(Run({"dial", "nobody"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "callsctl: dial: callee does not exist (Calls code 1400103)\n"
            "field: callee_id\n"
            "hint: check the user id\n");
}

TEST_F(CallsctlRunTest, AcceptDeclineEndMuteUnmute) {
  v1::AcceptResponse accept;
  *accept.mutable_call() = Incoming("c1", v1::CALL_STATE_ACCEPTING);
  daemon_.accept = accept;
  EXPECT_EQ(Run({"accept", "c1"}), kExitOk);
  EXPECT_EQ(daemon_.accept_request.call_id(), "c1");
  EXPECT_EQ(out_.str(), "accepted call c1 from alice (ACCEPTING)\n");

  out_.str("");
  v1::DeclineResponse decline;
  *decline.mutable_call() = Incoming("c2", v1::CALL_STATE_ENDED);
  decline.mutable_call()->set_end_result(v1::END_RESULT_DECLINED);
  daemon_.decline = decline;
  EXPECT_EQ(Run({"decline", "c2"}), kExitOk);
  EXPECT_EQ(daemon_.decline_request.call_id(), "c2");
  EXPECT_EQ(out_.str(), "declined call c2 from alice (ENDED: declined)\n");

  out_.str("");
  v1::EndResponse end;
  *end.mutable_call() = Outgoing("c3", v1::CALL_STATE_ENDED);
  end.mutable_call()->set_end_result(v1::END_RESULT_COMPLETED);
  *end.mutable_call()->mutable_connected_at() = Ts(kNow - absl::Seconds(42));
  end.mutable_call()->set_duration_ms(42000);
  daemon_.end = end;
  EXPECT_EQ(Run({"end", "c3"}), kExitOk);
  EXPECT_EQ(daemon_.end_request.call_id(), "c3");
  EXPECT_EQ(out_.str(), "ended call c3 with bob (ENDED: completed, 0:42)\n");

  out_.str("");
  v1::SetMutedResponse muted;
  *muted.mutable_call() = Outgoing("c4", v1::CALL_STATE_CONNECTED);
  muted.mutable_call()->set_muted(true);
  daemon_.set_muted = muted;
  EXPECT_EQ(Run({"mute", "c4"}), kExitOk);
  EXPECT_EQ(daemon_.set_muted_request.call_id(), "c4");
  EXPECT_TRUE(daemon_.set_muted_request.muted());
  EXPECT_EQ(out_.str(), "muted call c4 with bob (CONNECTED, muted)\n");

  out_.str("");
  muted.mutable_call()->set_muted(false);
  daemon_.set_muted = muted;
  EXPECT_EQ(Run({"unmute", "c4"}), kExitOk);
  EXPECT_FALSE(daemon_.set_muted_request.muted());
  EXPECT_EQ(out_.str(), "unmuted call c4 with bob (CONNECTED)\n");

  EXPECT_THAT(daemon_.calls, ElementsAre("Accept", "Decline", "End", "SetMuted", "SetMuted"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CallsctlRunTest, EndOfACallThatNeverConnectedHasNoDuration) {
  v1::EndResponse end;
  *end.mutable_call() = Outgoing("c5", v1::CALL_STATE_ENDED);
  end.mutable_call()->set_end_result(v1::END_RESULT_CANCELED);
  daemon_.end = end;
  EXPECT_EQ(Run({"end", "c5"}), kExitOk);
  EXPECT_EQ(out_.str(), "ended call c5 with bob (ENDED: canceled)\n");

  // A bare answer: the call id typed is used.
  out_.str("");
  daemon_.end = v1::EndResponse();
  EXPECT_EQ(Run({"end", "c6"}), kExitOk);
  EXPECT_EQ(out_.str(), "ended call c6 (-)\n");
}

TEST_F(CallsctlRunTest, CallCommandsWithJson) {
  v1::AcceptResponse accept;
  *accept.mutable_call() = Incoming("c1", v1::CALL_STATE_ACCEPTING);
  daemon_.accept = accept;
  EXPECT_EQ(Run({"accept", "c1", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("state": "CALL_STATE_ACCEPTING")"));

  out_.str("");
  EXPECT_EQ(Run({"unmute", "c1", "--json"}), kExitOk);
  EXPECT_EQ(out_.str(), "{}\n");  // An empty answer, as is.
}

TEST_F(CallsctlRunTest, SecondAnswerLosesWithTheDaemonsReason) {
  v1::ErrorInfo info;
  info.set_calls_code(1400101);
  info.set_message("invalid call status");
  info.set_hint("another app answered the call first: see callsctl calls");
  daemon_.accept = client::WithErrorInfo(
      absl::FailedPreconditionError("call c1 is ACCEPTING, not RINGING"), info);
  EXPECT_EQ(Run({"accept", "c1"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "callsctl: accept: call c1 is ACCEPTING, not RINGING (Calls code 1400101)\n"
            "hint: another app answered the call first: see callsctl calls\n");
}

TEST_F(CallsctlRunTest, CallsTableJsonAndEmpty) {
  EXPECT_EQ(Run({"calls"}), kExitOk);
  EXPECT_EQ(out_.str(), "no calls\n");

  out_.str("");
  v1::ListCallsResponse response;
  *response.add_calls() = Incoming("c1", v1::CALL_STATE_RINGING);
  *response.mutable_calls(0)->mutable_started_at() = Ts(kNow - absl::Seconds(3));
  *response.add_calls() = Outgoing("c2", v1::CALL_STATE_CONNECTED);
  *response.mutable_calls(1)->mutable_started_at() = Ts(kNow - absl::Seconds(80));
  *response.mutable_calls(1)->mutable_connected_at() = Ts(kNow - absl::Seconds(62));
  daemon_.list_calls = response;
  EXPECT_EQ(Run({"calls"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "CALL ID  DIRECTION  PEER   STATE      DURATION  END RESULT  STARTED\n"
            "c1       incoming   alice  RINGING    -         -           3s ago\n"
            "c2       outgoing   bob    CONNECTED  1:02      -           1m 20s ago\n");

  out_.str("");
  EXPECT_EQ(Run({"calls", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("call_id": "c2")"));
  EXPECT_THAT(daemon_.calls, ElementsAre("ListCalls", "ListCalls", "ListCalls"));
}

v1::GetCallHistoryResponse TwoLoggedCalls() {
  v1::GetCallHistoryResponse response;
  v1::Call* first = response.add_calls();
  first->set_call_id("log-2");
  first->mutable_caller()->set_user_id("alice");
  first->mutable_callee()->set_user_id("bob");
  first->set_state(v1::CALL_STATE_ENDED);
  first->set_end_result(v1::END_RESULT_COMPLETED);
  first->set_duration_ms(65000);
  *first->mutable_started_at() = Ts(kNow - absl::Hours(1));
  v1::Call* second = response.add_calls();
  second->set_call_id("log-1");
  second->mutable_caller()->set_user_id("bob");
  second->mutable_callee()->set_user_id("alice");
  second->set_state(v1::CALL_STATE_ENDED);
  second->set_end_result(v1::END_RESULT_DECLINED);
  *second->mutable_started_at() = Ts(kNow - absl::Hours(2));
  return response;
}

TEST_F(CallsctlRunTest, HistoryAsSeenByTheLoggedInUser) {
  daemon_.history = TwoLoggedCalls();
  v1::State state;
  state.mutable_user()->set_user_id("bob");
  daemon_.state = state;
  EXPECT_EQ(Run({"history"}), kExitOk);
  EXPECT_THAT(daemon_.calls, ElementsAre("GetCallHistory", "GetState"));
  EXPECT_EQ(daemon_.history_request.limit(), 0);
  EXPECT_EQ(daemon_.history_request.next(), "");
  EXPECT_EQ(out_.str(),
            "TIME                 DIRECTION  PEER   END RESULT  DURATION  CALL ID\n"
            "2025-01-02 14:00:00  incoming   alice  completed   1:05      log-2\n"
            "2025-01-02 13:00:00  outgoing   alice  declined    -         log-1\n");
  EXPECT_EQ(err_.str(), "");

  // The same log for alice: the directions flip.
  out_.str("");
  state.mutable_user()->set_user_id("alice");
  daemon_.state = state;
  EXPECT_EQ(Run({"history"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("outgoing   bob   completed"));
  EXPECT_THAT(out_.str(), HasSubstr("incoming   bob   declined"));
}

TEST_F(CallsctlRunTest, HistoryPagesAndCache) {
  v1::GetCallHistoryResponse response = TwoLoggedCalls();
  response.set_next("c-40");
  response.set_from_cache(true);
  daemon_.history = response;
  EXPECT_EQ(Run({"history", "--limit", "2", "--next", "c-20"}), kExitOk);
  EXPECT_EQ(daemon_.history_request.limit(), 2);
  EXPECT_EQ(daemon_.history_request.next(), "c-20");
  EXPECT_THAT(out_.str(),
              HasSubstr("log-1\n"
                        "(from the local cache: the server could not be reached)\n"
                        "next page: callsctl history --limit 2 --next c-40\n"));
}

TEST_F(CallsctlRunTest, HistoryWithoutTheStateShowsTheCallsOwnDirection) {
  v1::GetCallHistoryResponse response = TwoLoggedCalls();
  response.mutable_calls(0)->set_direction(v1::CALL_DIRECTION_OUTGOING);
  *response.mutable_calls(0)->mutable_peer() = response.calls(0).callee();
  daemon_.history = response;
  daemon_.state = absl::UnavailableError("gone");
  EXPECT_EQ(Run({"history"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("outgoing   bob"));
  EXPECT_THAT(out_.str(), HasSubstr("-          ?"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CallsctlRunTest, HistoryErrorAndJson) {
  v1::ErrorInfo info;
  info.set_calls_code(1800303);
  info.set_hint("log in first: callsctl login USER --token-file FILE");
  daemon_.history = client::WithErrorInfo(
      absl::UnauthenticatedError("user not authenticated"), info);
  EXPECT_EQ(Run({"history"}), kExitError);
  EXPECT_EQ(err_.str(),
            "callsctl: history: user not authenticated (Calls code 1800303)\n"
            "hint: log in first: callsctl login USER --token-file FILE\n");
  EXPECT_THAT(daemon_.calls, ElementsAre("GetCallHistory"));

  err_.str("");
  daemon_.history = TwoLoggedCalls();
  EXPECT_EQ(Run({"history", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("from_cache": false)"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("call_id": "log-1")"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CallsctlRunTest, StatusShowsOngoingCalls) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  *state.add_calls() = Incoming("c1", v1::CALL_STATE_RINGING);
  daemon_.state = state;
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("event seq:   0\n"
                                    "calls:\n"
                                    "  CALL ID  DIRECTION  PEER   STATE    DURATION  STARTED\n"
                                    "  c1       incoming   alice  RINGING  -         -\n"));
}

// push deliver

constexpr char kPayload[] =
    R"({"v":1,"app_id":"demo-app","user_id":"me","type":"call.ringing","call_id":"c1",)"
    R"("caller":{"user_id":"alice"},"video":false,"sent_at":1,"ttl_s":60,"sig":"c2ln"})";

TEST_F(CallsctlRunTest, PushDeliverSendsStdinAndPrintsTheOutcome) {
  v1::DeliverPushResponse response;
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_RANG);
  *response.mutable_call() = Incoming("c1", v1::CALL_STATE_RINGING);
  daemon_.deliver_push = response;
  in_.str(std::string(kPayload) + "\n");
  EXPECT_EQ(Run({"push", "deliver"}), kExitOk);
  EXPECT_THAT(daemon_.calls, ElementsAre("DeliverPush"));
  EXPECT_EQ(daemon_.deliver_push_request.payload(), kPayload);  // Without the newline.
  EXPECT_EQ(out_.str(), "rang: call c1 from alice\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CallsctlRunTest, PushDeliverEveryOutcome) {
  struct Case {
    v1::DeliverPushResponse::Outcome outcome;
    std::string line;
  };
  const Case cases[] = {
      {v1::DeliverPushResponse::OUTCOME_DUPLICATE,
       "duplicate: call c1 is already known (no second ring)\n"},
      {v1::DeliverPushResponse::OUTCOME_CALL_ENDED, "call c1 has already ended (canceled): no ring\n"},
      {v1::DeliverPushResponse::OUTCOME_CANCELED, "canceled: call c1 from alice stopped ringing\n"},
      {v1::DeliverPushResponse::OUTCOME_MISSED, "missed: call c1 from alice\n"},
  };
  for (const Case& c : cases) {
    v1::DeliverPushResponse response;
    response.set_outcome(c.outcome);
    *response.mutable_call() = Incoming("c1", v1::CALL_STATE_ENDED);
    response.mutable_call()->set_end_result(v1::END_RESULT_CANCELED);
    daemon_.deliver_push = response;
    out_.str("");
    in_.clear();
    in_.str(kPayload);
    EXPECT_EQ(Run({"push", "deliver"}), kExitOk);
    EXPECT_EQ(out_.str(), c.line);
  }
}

TEST_F(CallsctlRunTest, PushDeliverJson) {
  v1::DeliverPushResponse response;
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_DUPLICATE);
  daemon_.deliver_push = response;
  in_.str(kPayload);
  EXPECT_EQ(Run({"push", "deliver", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("outcome": "OUTCOME_DUPLICATE")"));
}

TEST_F(CallsctlRunTest, PushDeliverRejectedExitsWithOneAndTheReason) {
  v1::ErrorInfo info;
  info.set_message("signature does not match");
  info.set_field("sig");
  info.set_hint("the push was not signed with this session's push key");
  daemon_.deliver_push = client::WithErrorInfo(
      absl::PermissionDeniedError("push rejected: signature does not match"), info);
  in_.str(kPayload);
  EXPECT_EQ(Run({"push", "deliver"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "callsctl: push deliver: push rejected: signature does not match\n"
            "field: sig\n"
            "hint: the push was not signed with this session's push key\n");
}

TEST_F(CallsctlRunTest, PushDeliverAtTheInputLimitIsSent) {
  // The daemon, not callsctl, judges a payload between 4096 bytes and the
  // margin.
  const std::string payload(kMaxPushInputBytes, 'x');
  in_.str(payload);
  EXPECT_EQ(Run({"push", "deliver"}), kExitOk);
  EXPECT_EQ(daemon_.deliver_push_request.payload(), payload);
}

TEST_F(CallsctlRunTest, PushDeliverOversizedIsRefusedWithoutEchoOrConnection) {
  const std::string marker = "SECRET-PAYLOAD-MARKER";
  std::string payload = marker + std::string(kMaxPushInputBytes, 'y');
  in_.str(payload);
  EXPECT_EQ(Run({"push", "deliver"}), kExitUsage);
  EXPECT_EQ(daemon_.connects, 0);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "callsctl: push deliver: the payload on standard input is longer than 5120 bytes (a "
            "push payload is at most 4096 bytes); nothing was sent\n");
  EXPECT_THAT(err_.str(), Not(HasSubstr(marker)));
  EXPECT_THAT(err_.str(), Not(HasSubstr("yyyy")));
}

TEST_F(CallsctlRunTest, PushDeliverEmptyIsAUsageError) {
  in_.str(" \n\n");
  EXPECT_EQ(Run({"push", "deliver"}), kExitUsage);
  EXPECT_EQ(daemon_.connects, 0);
  EXPECT_EQ(err_.str(),
            "callsctl: push deliver: the payload on standard input is empty (pipe the push "
            "payload into callsctl push deliver)\n");
}

TEST_F(CallsctlRunTest, WatchPrintsCallEvents) {
  std::vector<v1::Event> events(3);
  for (int i = 0; i < 3; ++i) {
    events[i].set_seq(30 + i);
    *events[i].mutable_time() = Ts(kNow);
  }
  *events[0].mutable_ringing()->mutable_call() = Incoming("c1", v1::CALL_STATE_RINGING);
  *events[1].mutable_connected()->mutable_call() = Incoming("c1", v1::CALL_STATE_CONNECTED);
  v1::Call* ended = events[2].mutable_ended()->mutable_call();
  *ended = Incoming("c1", v1::CALL_STATE_ENDED);
  ended->set_end_result(v1::END_RESULT_COMPLETED);
  ended->set_duration_ms(42000);
  ended->set_ended_by("bob");
  daemon_.events = events;
  daemon_.watch_end = absl::OkStatus();
  EXPECT_EQ(Run({"watch"}), kExitOk);
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  EXPECT_THAT(lines,
              ElementsAre("2025-01-02 15:00:00.000  #30  ringing  call=c1 from=alice video=no",
                          "2025-01-02 15:00:00.000  #31  connected  call=c1 peer=alice",
                          "2025-01-02 15:00:00.000  #32  ended  call=c1 result=completed "
                          "duration=0:42 by=bob"));

  out_.str("");
  err_.str("");
  EXPECT_EQ(Run({"watch", "--json"}), kExitOk);
  lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr(R"("ringing":{"call":{"call_id":"c1")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("end_result":"END_RESULT_COMPLETED")"));
}

// rooms

v1::Room EnteredRoom(const std::string& id) {
  v1::Room room;
  room.set_room_id(id);
  room.set_type(v1::ROOM_TYPE_SMALL);
  room.set_max_participants(6);
  room.set_owner_id("alice");
  room.set_state(v1::ROOM_STATE_ENTERED);
  room.add_participants()->mutable_user()->set_user_id("alice");
  room.add_participants()->mutable_user()->set_user_id("me");
  return room;
}

TEST_F(CallsctlRunTest, RoomCreatePrintsTheIdAlone) {
  v1::CreateRoomResponse response;
  response.mutable_room()->set_room_id("r-new");
  response.mutable_room()->set_type(v1::ROOM_TYPE_LARGE);
  daemon_.create_room = response;
  EXPECT_EQ(Run({"room", "create", "--type", "large"}), kExitOk);
  EXPECT_THAT(daemon_.calls, ElementsAre("CreateRoom"));
  EXPECT_EQ(daemon_.create_room_request.type(), v1::ROOM_TYPE_LARGE);
  EXPECT_EQ(out_.str(), "r-new\n");
  EXPECT_EQ(err_.str(), "");

  out_.str("");
  EXPECT_EQ(Run({"room", "create", "--json"}), kExitOk);
  EXPECT_EQ(daemon_.create_room_request.type(), v1::ROOM_TYPE_UNSPECIFIED);
  EXPECT_THAT(out_.str(), HasSubstr(R"("room_id": "r-new")"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("type": "ROOM_TYPE_LARGE")"));
}

TEST_F(CallsctlRunTest, RoomEnterExitMuteUnmuteDelete) {
  v1::EnterRoomResponse entered;
  *entered.mutable_room() = EnteredRoom("r-1");
  entered.mutable_room()->set_muted(true);
  daemon_.enter_room = entered;
  EXPECT_EQ(Run({"room", "enter", "r-1", "--muted"}), kExitOk);
  EXPECT_EQ(daemon_.enter_room_request.room_id(), "r-1");
  EXPECT_TRUE(daemon_.enter_room_request.muted());
  EXPECT_EQ(out_.str(), "entered room r-1 (small, 2/6 participants, muted)\n");

  out_.str("");
  EXPECT_EQ(Run({"room", "mute", "r-1"}), kExitOk);
  EXPECT_EQ(daemon_.set_room_muted_request.room_id(), "r-1");
  EXPECT_TRUE(daemon_.set_room_muted_request.muted());
  EXPECT_EQ(Run({"room", "unmute", "r-1"}), kExitOk);
  EXPECT_FALSE(daemon_.set_room_muted_request.muted());
  EXPECT_EQ(Run({"room", "exit", "r-1"}), kExitOk);
  EXPECT_EQ(daemon_.exit_room_request.room_id(), "r-1");
  EXPECT_EQ(Run({"room", "delete", "r-1"}), kExitOk);
  EXPECT_EQ(daemon_.delete_room_request.room_id(), "r-1");
  EXPECT_EQ(out_.str(),
            "muted in room r-1\n"
            "unmuted in room r-1\n"
            "exited room r-1\n"
            "deleted room r-1\n");
  EXPECT_THAT(daemon_.calls, ElementsAre("EnterRoom", "SetRoomMuted", "SetRoomMuted", "ExitRoom",
                                         "DeleteRoom"));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CallsctlRunTest, RoomShowHumanAndJson) {
  v1::GetRoomResponse response;
  *response.mutable_room() = EnteredRoom("r-1");
  response.mutable_room()->mutable_participants(0)->set_muted(true);
  daemon_.get_room = response;
  EXPECT_EQ(Run({"room", "show", "r-1"}), kExitOk);
  EXPECT_EQ(daemon_.get_room_request.room_id(), "r-1");
  EXPECT_THAT(out_.str(), HasSubstr("participants: 2 of 6\n"
                                    "USER   AUDIO  ENTERED\n"
                                    "alice  muted  -\n"
                                    "me     on     -\n"));
  out_.str("");
  EXPECT_EQ(Run({"--json", "room", "show", "r-1"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr(R"("muted": true)"));
  EXPECT_THAT(out_.str(), HasSubstr(R"("user_id": "alice")"));
}

TEST_F(CallsctlRunTest, RoomListAndStatusShowTheRooms) {
  v1::ListRoomsResponse list;
  *list.add_rooms() = EnteredRoom("r-1");
  daemon_.list_rooms = list;
  EXPECT_EQ(Run({"room", "list"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "ROOM ID  TYPE   STATE    PARTICIPANTS  OWNER  AUDIO\n"
            "r-1      small  ENTERED  2/6           alice  on\n");

  out_.str("");
  v1::State state;
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  *state.add_rooms() = EnteredRoom("r-1");
  daemon_.state = state;
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("rooms:\n  ROOM ID  TYPE   STATE"));
}

TEST_F(CallsctlRunTest, RoomFullShowsTheCodeAndSaysSo) {
  v1::ErrorInfo info;
  info.set_calls_code(1400120);
  info.set_message("participant limit reached");
  daemon_.enter_room = client::WithErrorInfo(
      absl::FailedPreconditionError("room r-1: participant limit reached"), info);
  EXPECT_EQ(Run({"room", "enter", "r-1"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_THAT(err_.str(), StartsWith("callsctl: room enter: room r-1: participant limit reached "
                                     "(Calls code 1400120)\nhint: the room is full"));
}

TEST_F(CallsctlRunTest, WatchPrintsRoomEvents) {
  std::vector<v1::Event> events(3);
  for (int i = 0; i < 3; ++i) {
    events[i].set_seq(40 + i);
    *events[i].mutable_time() = Ts(kNow);
  }
  *events[0].mutable_room_entered()->mutable_room() = EnteredRoom("r-1");
  v1::RoomParticipantEvent* entered = events[1].mutable_participant_entered();
  *entered->mutable_room() = EnteredRoom("r-1");
  entered->mutable_participant()->mutable_user()->set_user_id("bob");
  *events[2].mutable_room_deleted()->mutable_room() = EnteredRoom("r-1");
  daemon_.events = events;
  daemon_.watch_end = absl::OkStatus();
  EXPECT_EQ(Run({"watch"}), kExitOk);
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  EXPECT_THAT(lines,
              ElementsAre("2025-01-02 15:00:00.000  #40  room_entered  room=r-1 type=small "
                          "participants=2/6 muted=no",
                          "2025-01-02 15:00:00.000  #41  participant_entered  room=r-1 user=bob "
                          "muted=no",
                          "2025-01-02 15:00:00.000  #42  room_deleted  room=r-1"));
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
