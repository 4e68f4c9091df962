// callsctl's output from hand-built protos: human text, JSON, errors.
#include "client-lib/callsctl/output.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "callsd/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2025, 1, 2, 15, 0, 0), absl::UTCTimeZone());

TimeContext Utc() { return TimeContext{kNow, absl::UTCTimeZone()}; }

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(ts.seconds())) / absl::Nanoseconds(1)));
  return ts;
}

v1::ErrorInfo Info(int code, const std::string& message) {
  v1::ErrorInfo info;
  info.set_calls_code(code);
  info.set_message(message);
  return info;
}

TEST(FormatRelativeTest, TwoLargestUnitsTruncated) {
  EXPECT_EQ(FormatRelative(kNow + absl::Seconds(118), kNow), "in 1m 58s");
  EXPECT_EQ(FormatRelative(kNow + absl::Milliseconds(118900), kNow), "in 1m 58s");
  EXPECT_EQ(FormatRelative(kNow + absl::Seconds(5), kNow), "in 5s");
  EXPECT_EQ(FormatRelative(kNow + absl::Minutes(3), kNow), "in 3m");
  EXPECT_EQ(FormatRelative(kNow + absl::Hours(1) + absl::Seconds(59), kNow), "in 1h");
  EXPECT_EQ(FormatRelative(kNow + absl::Hours(1) + absl::Minutes(5), kNow), "in 1h 5m");
  EXPECT_EQ(FormatRelative(kNow + absl::Hours(50), kNow), "in 2d 2h");
  EXPECT_EQ(FormatRelative(kNow - absl::Seconds(185), kNow), "3m 5s ago");
  EXPECT_EQ(FormatRelative(kNow + absl::Milliseconds(400), kNow), "now");
  EXPECT_EQ(FormatRelative(kNow - absl::Milliseconds(999), kNow), "now");
}

TEST(EnumNamesTest, WithoutPrefixes) {
  EXPECT_EQ(SessionStateName(v1::SESSION_STATE_NOT_INITIALIZED), "NOT_INITIALIZED");
  EXPECT_EQ(SessionStateName(v1::SESSION_STATE_AUTHENTICATED), "AUTHENTICATED");
  EXPECT_EQ(SessionStateName(static_cast<v1::SessionState>(42)), "42");
  EXPECT_EQ(TokenKindName(v1::TOKEN_KIND_SESSION_TOKEN), "SESSION_TOKEN");
  EXPECT_EQ(PushTypeName(v1::PUSH_TOKEN_TYPE_VOIP), "voip");
  EXPECT_EQ(PushStateName(v1::PUSH_TOKEN_SERVER_STATE_REGISTERED), "REGISTERED");
}

TEST(FormatStateTest, AuthenticatedWithSessionToken) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  state.mutable_user()->set_user_id("alice");
  state.mutable_user()->set_nickname("Alice");
  state.set_token_kind(v1::TOKEN_KIND_SESSION_TOKEN);
  *state.mutable_token_expires_at() = Ts(kNow + absl::Seconds(118));
  state.set_event_seq(42);
  state.set_daemon_version("0.1.0");
  v1::PushToken* token = state.add_push_tokens();
  token->set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  token->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
  EXPECT_EQ(FormatState(state, Utc()),
            "app id:        demo-app\n"
            "state:         AUTHENTICATED\n"
            "user:          alice (Alice)\n"
            "token kind:    SESSION_TOKEN\n"
            "token expires: 2025-01-02 15:01:58 UTC (in 1m 58s)\n"
            "push tokens:   voip REGISTERED\n"
            "event seq:     42\n"
            "daemon:        0.1.0\n");
}

TEST(FormatStateTest, ShowsThePushEndpoint) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_LOGGED_OUT);
  state.set_push_endpoint_url("http://127.0.0.1:4567/push");
  EXPECT_EQ(FormatState(state, Utc()),
            "app id:        demo-app\n"
            "state:         LOGGED_OUT\n"
            "push tokens:   none\n"
            "push endpoint: http://127.0.0.1:4567/push\n"
            "event seq:     0\n");
}

TEST(FormatStateTest, NotInitialized) {
  v1::State state;
  state.set_session_state(v1::SESSION_STATE_NOT_INITIALIZED);
  EXPECT_EQ(FormatState(state, Utc()),
            "app id:      (none)\n"
            "state:       NOT_INITIALIZED\n"
            "push tokens: none\n"
            "event seq:   0\n");
}

TEST(FormatStateTest, RetryingAfterAnError) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATING);
  state.mutable_user()->set_user_id("bob");
  state.set_token_kind(v1::TOKEN_KIND_ACCESS_TOKEN);
  *state.mutable_last_error() = Info(0, "calls server unreachable: connection refused");
  *state.mutable_next_retry_at() = Ts(kNow + absl::Seconds(4));
  state.set_event_seq(7);
  EXPECT_EQ(FormatState(state, Utc()),
            "app id:      demo-app\n"
            "state:       AUTHENTICATING\n"
            "user:        bob\n"
            "token kind:  ACCESS_TOKEN\n"
            "last error:  calls server unreachable: connection refused\n"
            "next retry:  2025-01-02 15:00:04 UTC (in 4s)\n"
            "push tokens: none\n"
            "event seq:   7\n");
}

TEST(ToJsonTest, StateWithSnakeCaseNamesAndEnumNames) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_TOKEN_REQUIRED);
  state.set_token_kind(v1::TOKEN_KIND_SESSION_TOKEN);
  *state.mutable_token_expires_at() = Ts(kNow);
  *state.mutable_last_error() = Info(400310, "session token revoked");
  absl::StatusOr<std::string> json = ToJson(state, /*pretty=*/false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("app_id":"demo-app")"));
  EXPECT_THAT(*json, HasSubstr(R"("session_state":"SESSION_STATE_TOKEN_REQUIRED")"));
  EXPECT_THAT(*json, HasSubstr(R"("token_kind":"TOKEN_KIND_SESSION_TOKEN")"));
  EXPECT_THAT(*json, HasSubstr(R"("token_expires_at":"2025-01-02T15:00:00Z")"));
  EXPECT_THAT(*json, HasSubstr(R"("calls_code":400310)"));
  // Fields with default values are printed too: stable keys for scripts.
  EXPECT_THAT(*json, HasSubstr(R"("event_seq":"0")"));
  EXPECT_THAT(*json, HasSubstr(R"("push_tokens":[])"));
  EXPECT_THAT(*json, Not(HasSubstr("\n")));

  absl::StatusOr<std::string> pretty = ToJson(state, /*pretty=*/true);
  ASSERT_TRUE(pretty.ok());
  EXPECT_THAT(*pretty, HasSubstr("\n"));
  EXPECT_NE(pretty->back(), '\n');
}

TEST(ToJsonTest, UnsetEnumIsItsName) {
  absl::StatusOr<std::string> json = ToJson(v1::State(), false);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr(R"("session_state":"SESSION_STATE_UNSPECIFIED")"));
}

v1::Event At(uint64_t seq) {
  v1::Event event;
  event.set_seq(seq);
  *event.mutable_time() = Ts(kNow + absl::Milliseconds(250));
  return event;
}

TEST(FormatEventTest, EveryKind) {
  v1::Event snapshot = At(5);
  snapshot.mutable_snapshot()->set_app_id("demo-app");
  snapshot.mutable_snapshot()->set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  snapshot.mutable_snapshot()->mutable_user()->set_user_id("alice");
  EXPECT_EQ(FormatEvent(snapshot, Utc()),
            "2025-01-02 15:00:00.250  #5  snapshot  app=demo-app state=AUTHENTICATED user=alice");

  v1::Event changed = At(6);
  changed.mutable_session_state_changed()->set_previous(v1::SESSION_STATE_AUTHENTICATED);
  changed.mutable_session_state_changed()->set_state(v1::SESSION_STATE_TOKEN_REQUIRED);
  changed.mutable_session_state_changed()->mutable_user()->set_user_id("alice");
  *changed.mutable_session_state_changed()->mutable_reason() = Info(400310, "token revoked");
  EXPECT_EQ(FormatEvent(changed, Utc()),
            "2025-01-02 15:00:00.250  #6  session_state_changed  AUTHENTICATED -> TOKEN_REQUIRED "
            "user=alice reason: token revoked (Calls code 400310)");

  v1::Event will_expire = At(7);
  *will_expire.mutable_session_token_will_expire()->mutable_expires_at() =
      Ts(kNow + absl::Minutes(5) + absl::Milliseconds(250));
  EXPECT_EQ(FormatEvent(will_expire, Utc()),
            "2025-01-02 15:00:00.250  #7  session_token_will_expire  expires 2025-01-02 15:05:00 "
            "UTC (in 5m)");

  v1::Event required = At(8);
  *required.mutable_session_token_required()->mutable_reason() = Info(400309, "expired");
  EXPECT_EQ(FormatEvent(required, Utc()),
            "2025-01-02 15:00:00.250  #8  session_token_required  reason: expired (Calls code "
            "400309)");

  v1::Event app = At(9);
  app.mutable_app_changed()->set_app_id("new-app");
  EXPECT_EQ(FormatEvent(app, Utc()), "2025-01-02 15:00:00.250  #9  app_changed  (none) -> new-app");

  v1::Event push = At(10);
  v1::PushToken* t1 = push.mutable_push_tokens_changed()->add_tokens();
  t1->set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  t1->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_PENDING);
  t1->set_token("https://push.example/secret-endpoint");
  v1::PushToken* t2 = push.mutable_push_tokens_changed()->add_tokens();
  t2->set_type(v1::PUSH_TOKEN_TYPE_REMOTE);
  t2->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
  EXPECT_EQ(FormatEvent(push, Utc()),
            "2025-01-02 15:00:00.250  #10  push_tokens_changed  2 tokens: voip PENDING, remote "
            "REGISTERED");

  v1::Event unknown;
  unknown.set_seq(11);
  EXPECT_THAT(FormatEvent(unknown, Utc()),
              HasSubstr("2025-01-02 15:00:00.000  #11  unknown  "));  // No time: now.
}

TEST(FormatPushTokensTest, AlignedTable) {
  v1::ListPushTokensResponse response;
  v1::PushToken* t1 = response.add_tokens();
  t1->set_type(v1::PUSH_TOKEN_TYPE_VOIP);
  t1->set_token("https://push.example/a");
  t1->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_REGISTERED);
  *t1->mutable_updated_at() = Ts(kNow);
  v1::PushToken* t2 = response.add_tokens();
  t2->set_type(v1::PUSH_TOKEN_TYPE_REMOTE);
  t2->set_token("https://push.example/bb");
  t2->set_server_state(v1::PUSH_TOKEN_SERVER_STATE_FAILED);
  *t2->mutable_error() = Info(400100, "invalid params");
  response.set_pending_unregistrations(2);
  EXPECT_EQ(FormatPushTokens(response, Utc()),
            "TYPE    STATE       UPDATED              TOKEN                    ERROR\n"
            "voip    REGISTERED  2025-01-02 15:00:00  https://push.example/a\n"
            "remote  FAILED      -                    https://push.example/bb  invalid params "
            "(Calls code 400100)\n"
            "2 unregistrations not yet confirmed by the server (retried in the background)\n");
}

TEST(FormatPushTokensTest, Empty) {
  EXPECT_EQ(FormatPushTokens(v1::ListPushTokensResponse(), Utc()), "no push tokens\n");
}

// ---------------------------------------------------------------------------
// Calls

TEST(EnumNamesTest, Calls) {
  EXPECT_EQ(CallStateName(v1::CALL_STATE_DIALING), "DIALING");
  EXPECT_EQ(CallStateName(v1::CALL_STATE_RECONNECTING), "RECONNECTING");
  EXPECT_EQ(CallStateName(v1::CALL_STATE_UNSPECIFIED), "-");
  EXPECT_EQ(CallStateName(static_cast<v1::CallState>(99)), "99");
  EXPECT_EQ(EndResultName(v1::END_RESULT_COMPLETED), "completed");
  EXPECT_EQ(EndResultName(v1::END_RESULT_OTHER_DEVICE_ACCEPTED), "other_device_accepted");
  EXPECT_EQ(EndResultName(v1::END_RESULT_UNSPECIFIED), "-");
  EXPECT_EQ(EndResultName(static_cast<v1::EndResult>(77)), "77");
  EXPECT_EQ(CallDirectionName(v1::CALL_DIRECTION_INCOMING), "incoming");
  EXPECT_EQ(CallDirectionName(v1::CALL_DIRECTION_OUTGOING), "outgoing");
  EXPECT_EQ(CallDirectionName(v1::CALL_DIRECTION_UNSPECIFIED), "-");
}

TEST(FormatCallDurationTest, MinutesSecondsAndHours) {
  EXPECT_EQ(FormatCallDuration(absl::ZeroDuration()), "0:00");
  EXPECT_EQ(FormatCallDuration(absl::Milliseconds(42999)), "0:42");  // Truncated.
  EXPECT_EQ(FormatCallDuration(absl::Seconds(725)), "12:05");
  EXPECT_EQ(FormatCallDuration(absl::Seconds(3599)), "59:59");
  EXPECT_EQ(FormatCallDuration(absl::Seconds(3723)), "1:02:03");
  EXPECT_EQ(FormatCallDuration(absl::Hours(26)), "26:00:00");
  EXPECT_EQ(FormatCallDuration(-absl::Seconds(5)), "0:00");
}

v1::Call MakeCall(const std::string& id, v1::CallDirection direction, const std::string& caller,
                  const std::string& callee, v1::CallState state) {
  v1::Call call;
  call.set_call_id(id);
  call.set_direction(direction);
  call.mutable_caller()->set_user_id(caller);
  call.mutable_callee()->set_user_id(callee);
  *call.mutable_peer() = direction == v1::CALL_DIRECTION_INCOMING ? call.caller() : call.callee();
  call.set_state(state);
  return call;
}

TEST(CallDurationTest, CountsFromConnected) {
  v1::Call call = MakeCall("c", v1::CALL_DIRECTION_OUTGOING, "me", "bob", v1::CALL_STATE_RINGING);
  EXPECT_FALSE(CallDuration(call, kNow).has_value()) << "never connected";

  call.set_state(v1::CALL_STATE_CONNECTED);
  *call.mutable_connected_at() = Ts(kNow - absl::Seconds(90));
  call.set_duration_ms(1000);  // Stale: the running time counts against now.
  EXPECT_EQ(CallDuration(call, kNow), absl::Seconds(90));
  EXPECT_EQ(CallDuration(call, kNow - absl::Seconds(100)), absl::ZeroDuration());  // Clock skew.

  call.set_state(v1::CALL_STATE_RECONNECTING);  // Still billed.
  EXPECT_EQ(CallDuration(call, kNow), absl::Seconds(90));

  call.set_state(v1::CALL_STATE_ENDED);
  call.set_duration_ms(42000);  // The final duration wins over now.
  EXPECT_EQ(CallDuration(call, kNow), absl::Seconds(42));

  call.set_duration_ms(0);
  *call.mutable_ended_at() = Ts(kNow - absl::Seconds(30));
  EXPECT_EQ(CallDuration(call, kNow), absl::Seconds(60));

  call.clear_ended_at();
  EXPECT_EQ(CallDuration(call, kNow), absl::ZeroDuration());

  call.clear_connected_at();
  EXPECT_FALSE(CallDuration(call, kNow).has_value()) << "ended before connecting";

  // A log entry with its end but no state is not counted against now.
  call.set_state(v1::CALL_STATE_UNSPECIFIED);
  *call.mutable_connected_at() = Ts(kNow - absl::Hours(3));
  call.set_end_result(v1::END_RESULT_COMPLETED);
  call.set_duration_ms(61000);
  EXPECT_EQ(CallDuration(call, kNow), absl::Seconds(61));
  call.set_end_result(v1::END_RESULT_UNSPECIFIED);
  call.set_duration_ms(0);
  *call.mutable_ended_at() = Ts(kNow - absl::Hours(3) + absl::Seconds(5));
  EXPECT_EQ(CallDuration(call, kNow), absl::Seconds(5));
}

TEST(CallPeerTest, PeerElseTheOtherSide) {
  v1::Call call = MakeCall("c", v1::CALL_DIRECTION_INCOMING, "alice", "me", v1::CALL_STATE_RINGING);
  EXPECT_EQ(CallPeerId(call), "alice");
  call.clear_peer();
  EXPECT_EQ(CallPeerId(call), "alice");
  call.set_direction(v1::CALL_DIRECTION_OUTGOING);
  EXPECT_EQ(CallPeerId(call), "me");
  call.set_direction(v1::CALL_DIRECTION_UNSPECIFIED);
  EXPECT_EQ(CallPeerId(call), "?");
}

TEST(ViewOfTest, TheUserTellsTheDirection) {
  v1::Call call;  // As in the server's log: no direction, no peer.
  call.mutable_caller()->set_user_id("alice");
  call.mutable_callee()->set_user_id("bob");
  call.mutable_callee()->set_nickname("Bob");

  UserView as_alice = ViewOf(call, "alice");
  EXPECT_EQ(as_alice.direction, v1::CALL_DIRECTION_OUTGOING);
  EXPECT_EQ(as_alice.peer.user_id(), "bob");
  EXPECT_EQ(as_alice.peer.nickname(), "Bob");

  UserView as_bob = ViewOf(call, "bob");
  EXPECT_EQ(as_bob.direction, v1::CALL_DIRECTION_INCOMING);
  EXPECT_EQ(as_bob.peer.user_id(), "alice");

  // Nobody logged in (or someone else): the call's own fields.
  EXPECT_EQ(ViewOf(call, "").direction, v1::CALL_DIRECTION_UNSPECIFIED);
  EXPECT_EQ(ViewOf(call, "").peer.user_id(), "?");
  call.set_direction(v1::CALL_DIRECTION_INCOMING);
  *call.mutable_peer() = call.caller();
  EXPECT_EQ(ViewOf(call, "carol").direction, v1::CALL_DIRECTION_INCOMING);
  EXPECT_EQ(ViewOf(call, "carol").peer.user_id(), "alice");
}

TEST(ToJsonTest, CallWithEnumNamesTimesAndDefaults) {
  v1::Call call = MakeCall("3f2a", v1::CALL_DIRECTION_OUTGOING, "alice", "bob", v1::CALL_STATE_ENDED);
  call.set_end_result(v1::END_RESULT_NO_ANSWER);
  *call.mutable_started_at() = Ts(kNow);
  call.set_duration_ms(42000);
  v1::DialResponse response;
  *response.mutable_call() = call;
  absl::StatusOr<std::string> json = ToJson(response, /*pretty=*/false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("call":{"call_id":"3f2a","direction":"CALL_DIRECTION_OUTGOING")"));
  EXPECT_THAT(*json, HasSubstr(R"("caller":{"user_id":"alice","nickname":""})"));
  EXPECT_THAT(*json, HasSubstr(R"("peer":{"user_id":"bob","nickname":""})"));
  EXPECT_THAT(*json, HasSubstr(R"("state":"CALL_STATE_ENDED")"));
  EXPECT_THAT(*json, HasSubstr(R"("end_result":"END_RESULT_NO_ANSWER")"));
  EXPECT_THAT(*json, HasSubstr(R"("started_at":"2025-01-02T15:00:00Z")"));
  EXPECT_THAT(*json, HasSubstr(R"("duration_ms":"42000")"));  // int64: a string in JSON.
  EXPECT_THAT(*json, HasSubstr(R"("video":false)"));
  EXPECT_THAT(*json, HasSubstr(R"("muted":false)"));

  v1::DeliverPushResponse push;
  push.set_outcome(v1::DeliverPushResponse::OUTCOME_CALL_ENDED);
  json = ToJson(push, /*pretty=*/false);
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr(R"("outcome":"OUTCOME_CALL_ENDED")"));

  v1::GetCallHistoryResponse history;
  history.set_from_cache(true);
  json = ToJson(history, /*pretty=*/false);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"({"calls":[],"next":"","from_cache":true})");
}

v1::ListCallsResponse SomeCalls() {
  v1::ListCallsResponse response;
  v1::Call* ringing = response.add_calls();
  *ringing = MakeCall("c-ring", v1::CALL_DIRECTION_INCOMING, "alice", "me", v1::CALL_STATE_RINGING);
  ringing->mutable_caller()->set_nickname("Alice");
  *ringing->mutable_peer() = ringing->caller();
  *ringing->mutable_started_at() = Ts(kNow - absl::Seconds(5));
  v1::Call* connected = response.add_calls();
  *connected = MakeCall("c-conn", v1::CALL_DIRECTION_OUTGOING, "me", "bob", v1::CALL_STATE_CONNECTED);
  connected->set_video(true);
  *connected->mutable_started_at() = Ts(kNow - absl::Seconds(200));
  *connected->mutable_connected_at() = Ts(kNow - absl::Seconds(185));
  v1::Call* ended = response.add_calls();
  *ended = MakeCall("c-end", v1::CALL_DIRECTION_INCOMING, "carol", "me", v1::CALL_STATE_ENDED);
  *ended->mutable_started_at() = Ts(kNow - absl::Hours(2));
  *ended->mutable_connected_at() = Ts(kNow - absl::Hours(2) + absl::Seconds(3));
  ended->set_end_result(v1::END_RESULT_COMPLETED);
  ended->set_duration_ms(42000);
  return response;
}

TEST(FormatCallsTest, AlignedTable) {
  EXPECT_EQ(FormatCalls(SomeCalls(), Utc()),
            "CALL ID  DIRECTION  PEER           STATE      DURATION  END RESULT  STARTED\n"
            "c-ring   incoming   alice (Alice)  RINGING    -         -           5s ago\n"
            "c-conn   outgoing   bob [video]    CONNECTED  3:05      -           3m 20s ago\n"
            "c-end    incoming   carol          ENDED      0:42      completed   2h ago\n");
}

TEST(FormatCallsTest, Empty) {
  EXPECT_EQ(FormatCalls(v1::ListCallsResponse(), Utc()), "no calls\n");
}

TEST(FormatStateTest, OngoingCallsSection) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  state.mutable_user()->set_user_id("me");
  v1::ListCallsResponse calls = SomeCalls();
  *state.add_calls() = calls.calls(0);
  *state.add_calls() = calls.calls(1);
  EXPECT_EQ(FormatState(state, Utc()),
            "app id:      demo-app\n"
            "state:       AUTHENTICATED\n"
            "user:        me\n"
            "push tokens: none\n"
            "event seq:   0\n"
            "calls:\n"
            "  CALL ID  DIRECTION  PEER           STATE      DURATION  STARTED\n"
            "  c-ring   incoming   alice (Alice)  RINGING    -         5s ago\n"
            "  c-conn   outgoing   bob [video]    CONNECTED  3:05      3m 20s ago\n");
}

TEST(FormatCallHistoryTest, AsSeenByTheUserWithCacheNoteAndNextPage) {
  v1::GetCallHistoryResponse response;
  // The server's log: caller and callee, no direction.
  v1::Call* out = response.add_calls();
  out->set_call_id("log-2");
  out->mutable_caller()->set_user_id("me");
  out->mutable_callee()->set_user_id("bob");
  out->set_state(v1::CALL_STATE_ENDED);
  out->set_end_result(v1::END_RESULT_COMPLETED);
  out->set_duration_ms(754000);
  *out->mutable_started_at() = Ts(kNow - absl::Minutes(30));
  v1::Call* in = response.add_calls();
  in->set_call_id("log-1");
  in->mutable_caller()->set_user_id("alice");
  in->mutable_caller()->set_nickname("Alice");
  in->mutable_callee()->set_user_id("me");
  in->set_video(true);
  in->set_state(v1::CALL_STATE_ENDED);
  // Logged as the caller saw it: for me, the callee, it timed out.
  in->set_end_result(v1::END_RESULT_NO_ANSWER);
  *in->mutable_started_at() = Ts(kNow - absl::Hours(25));
  v1::Call* missed = response.add_calls();
  missed->set_call_id("log-0");
  missed->mutable_caller()->set_user_id("me");
  missed->mutable_callee()->set_user_id("carol");
  missed->set_state(v1::CALL_STATE_ENDED);
  missed->set_end_result(v1::END_RESULT_NO_ANSWER);  // As the caller: stays.
  response.set_next("page 2's cursor");
  response.set_from_cache(true);
  EXPECT_EQ(
      FormatCallHistory(response, "me", 3, Utc()),
      "TIME                 DIRECTION  PEER                   END RESULT  DURATION  CALL ID\n"
      "2025-01-02 14:30:00  outgoing   bob                    completed   12:34     log-2\n"
      "2025-01-01 14:00:00  incoming   alice (Alice) [video]  timed_out   -         log-1\n"
      "-                    outgoing   carol                  no_answer   -         log-0\n"
      "(from the local cache: the server could not be reached)\n"
      "next page: callsctl history --limit 3 --next 'page 2'\\''s cursor'\n");
}

TEST(FormatCallHistoryTest, EmptyAndPlainCursor) {
  v1::GetCallHistoryResponse response;
  EXPECT_EQ(FormatCallHistory(response, "me", 0, Utc()), "no calls in the history\n");
  response.set_next("c-20");
  EXPECT_EQ(FormatCallHistory(response, "me", 0, Utc()),
            "no calls in the history\n"
            "next page: callsctl history --next c-20\n");
}

TEST(FormatPushOutcomeTest, EveryOutcome) {
  v1::DeliverPushResponse response;
  *response.mutable_call() =
      MakeCall("3f2a", v1::CALL_DIRECTION_INCOMING, "alice", "me", v1::CALL_STATE_RINGING);
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_RANG);
  EXPECT_EQ(FormatPushOutcome(response), "rang: call 3f2a from alice");
  response.mutable_call()->set_video(true);
  EXPECT_EQ(FormatPushOutcome(response), "rang: call 3f2a from alice (video)");
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_DUPLICATE);
  EXPECT_EQ(FormatPushOutcome(response), "duplicate: call 3f2a is already known (no second ring)");
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_CANCELED);
  EXPECT_EQ(FormatPushOutcome(response), "canceled: call 3f2a from alice stopped ringing");
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_MISSED);
  EXPECT_EQ(FormatPushOutcome(response), "missed: call 3f2a from alice");
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_CALL_ENDED);
  EXPECT_EQ(FormatPushOutcome(response), "call 3f2a has already ended: no ring");
  response.mutable_call()->set_end_result(v1::END_RESULT_CANCELED);
  EXPECT_EQ(FormatPushOutcome(response), "call 3f2a has already ended (canceled): no ring");
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_UNSPECIFIED);
  EXPECT_EQ(FormatPushOutcome(response), "delivered (outcome 0)");
  response.clear_call();
  response.set_outcome(v1::DeliverPushResponse::OUTCOME_MISSED);
  EXPECT_EQ(FormatPushOutcome(response), "missed: call ?");
}

TEST(FormatEventTest, EveryCallKind) {
  const v1::Call in = [] {
    v1::Call call =
        MakeCall("3f2a", v1::CALL_DIRECTION_INCOMING, "alice", "me", v1::CALL_STATE_RINGING);
    return call;
  }();
  const v1::Call out =
      MakeCall("9b1c", v1::CALL_DIRECTION_OUTGOING, "me", "bob", v1::CALL_STATE_DIALING);
  const std::string t = "2025-01-02 15:00:00.250  ";

  v1::Event e = At(12);
  *e.mutable_ringing()->mutable_call() = in;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#12  ringing  call=3f2a from=alice video=no");

  e = At(13);
  *e.mutable_dialing()->mutable_call() = out;
  e.mutable_dialing()->mutable_call()->set_video(true);
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#13  dialing  call=9b1c to=bob video=yes");

  e = At(14);
  *e.mutable_remote_ringing()->mutable_call() = out;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#14  remote_ringing  call=9b1c to=bob");

  e = At(15);
  *e.mutable_established()->mutable_call() = out;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#15  established  call=9b1c peer=bob");

  e = At(16);
  *e.mutable_connected()->mutable_call() = in;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#16  connected  call=3f2a peer=alice");

  e = At(17);
  *e.mutable_reconnecting()->mutable_call() = in;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#17  reconnecting  call=3f2a peer=alice");

  e = At(18);
  *e.mutable_reconnected()->mutable_call() = in;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#18  reconnected  call=3f2a peer=alice");

  e = At(19);
  *e.mutable_remote_audio_changed()->mutable_call() = out;
  e.mutable_remote_audio_changed()->set_muted(true);
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#19  remote_audio_changed  call=9b1c peer=bob muted=yes");

  e = At(20);
  *e.mutable_local_audio_changed()->mutable_call() = out;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#20  local_audio_changed  call=9b1c muted=no");
  e.mutable_local_audio_changed()->mutable_call()->set_muted(true);
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#20  local_audio_changed  call=9b1c muted=yes");

  e = At(21);
  v1::Call* ended = e.mutable_ended()->mutable_call();
  *ended = in;
  ended->set_state(v1::CALL_STATE_ENDED);
  ended->set_end_result(v1::END_RESULT_COMPLETED);
  *ended->mutable_connected_at() = Ts(kNow - absl::Seconds(42));
  ended->set_duration_ms(42000);
  ended->set_ended_by("bob");
  EXPECT_EQ(FormatEvent(e, Utc()),
            t + "#21  ended  call=3f2a result=completed duration=0:42 by=bob");
  // Never connected: no duration; nobody named: no "by".
  ended->clear_connected_at();
  ended->set_duration_ms(0);
  ended->clear_ended_by();
  ended->set_end_result(v1::END_RESULT_TIMED_OUT);
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#21  ended  call=3f2a result=timed_out");

  e = At(22);
  e.mutable_push_for_ended_call()->set_call_id("3f2a");
  e.mutable_push_for_ended_call()->set_push_type("call.ringing");
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#22  push_for_ended_call  call=3f2a push=call.ringing");
  e.mutable_push_for_ended_call()->mutable_call()->set_end_result(v1::END_RESULT_CANCELED);
  EXPECT_EQ(FormatEvent(e, Utc()),
            t + "#22  push_for_ended_call  call=3f2a push=call.ringing result=canceled");

  // The snapshot counts the ongoing calls.
  e = At(23);
  e.mutable_snapshot()->set_app_id("demo-app");
  e.mutable_snapshot()->set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  *e.mutable_snapshot()->add_calls() = in;
  EXPECT_EQ(FormatEvent(e, Utc()),
            t + "#23  snapshot  app=demo-app state=AUTHENTICATED calls=1");
}

TEST(FormatCommandErrorTest, FullErrorInfo) {
  v1::ErrorInfo info;
  info.set_calls_code(1800302);
  info.set_message("instance not initialized");
  info.set_field("app_id");
  info.set_tier("admin");
  info.set_hint("run callsctl init APP_ID first");
  absl::Status status = client::WithErrorInfo(
      absl::FailedPreconditionError("instance not initialized"), info);
  EXPECT_EQ(FormatCommandError("login", status),
            "callsctl: login: instance not initialized (Calls code 1800302)\n"
            "field: app_id\n"
            "needs the admin tier\n"
            "hint: run callsctl init APP_ID first\n");
}

TEST(FormatCommandErrorTest, TierOnly) {
  v1::ErrorInfo info;
  info.set_tier("admin");
  absl::Status status =
      client::WithErrorInfo(absl::PermissionDeniedError("Init needs the admin tier"), info);
  EXPECT_EQ(FormatCommandError("init", status),
            "callsctl: init: Init needs the admin tier\n"
            "needs the admin tier\n");
}

TEST(FormatCommandErrorTest, WithoutErrorInfo) {
  EXPECT_EQ(FormatCommandError("push list", absl::InternalError("boom")),
            "callsctl: push list: boom\n");
  EXPECT_EQ(FormatCommandError("status", absl::Status(absl::StatusCode::kUnknown, "")),
            "callsctl: status: UNKNOWN\n");
}

// Rooms

v1::RoomParticipant Participant(const std::string& user, bool muted, absl::Duration ago) {
  v1::RoomParticipant p;
  p.mutable_user()->set_user_id(user);
  p.set_muted(muted);
  *p.mutable_entered_at() = Ts(kNow - ago);
  return p;
}

v1::Room SmallRoom() {
  v1::Room room;
  room.set_room_id("r-1");
  room.set_type(v1::ROOM_TYPE_SMALL);
  room.set_owner_id("alice");
  room.set_max_participants(6);
  *room.add_participants() = Participant("alice", false, absl::Minutes(3));
  *room.add_participants() = Participant("carol", true, absl::Seconds(20));
  room.mutable_participants(1)->mutable_user()->set_nickname("Carol C");
  room.set_state(v1::ROOM_STATE_ENTERED);
  return room;
}

TEST(EnumNamesTest, Rooms) {
  EXPECT_EQ(RoomTypeName(v1::ROOM_TYPE_SMALL), "small");
  EXPECT_EQ(RoomTypeName(v1::ROOM_TYPE_LARGE), "large");
  EXPECT_EQ(RoomTypeName(v1::ROOM_TYPE_UNSPECIFIED), "-");
  EXPECT_EQ(RoomTypeName(static_cast<v1::RoomType>(9)), "9");
  EXPECT_EQ(RoomStateName(v1::ROOM_STATE_RECONNECTING), "RECONNECTING");
  EXPECT_EQ(RoomStateName(v1::ROOM_STATE_UNSPECIFIED), "-");
}

TEST(FormatRoomTest, FactsThenParticipantsWithTheirAudio) {
  EXPECT_EQ(FormatRoom(SmallRoom(), Utc()),
            "room:         r-1\n"
            "type:         small\n"
            "owner:        alice\n"
            "this device:  ENTERED, audio on\n"
            "participants: 2 of 6\n"
            "USER             AUDIO  ENTERED\n"
            "alice            on     3m ago\n"
            "carol (Carol C)  muted  20s ago\n");
}

TEST(FormatRoomTest, NotInItLargeAndEmpty) {
  v1::Room room;
  room.set_room_id("r-2");
  room.set_type(v1::ROOM_TYPE_LARGE);
  room.set_max_participants(20);
  EXPECT_EQ(FormatRoom(room, Utc()),
            "room:         r-2\n"
            "type:         large (audio only)\n"
            "owner:        -\n"
            "this device:  not in the room\n"
            "participants: 0 of 20\n"
            "no participants\n");
}

TEST(FormatRoomsTest, AlignedTableAndEmpty) {
  v1::ListRoomsResponse response;
  *response.add_rooms() = SmallRoom();
  v1::Room* large = response.add_rooms();
  large->set_room_id("r-large-22");
  large->set_type(v1::ROOM_TYPE_LARGE);
  large->set_max_participants(20);
  large->set_owner_id("bob");
  large->set_state(v1::ROOM_STATE_RECONNECTING);
  large->set_muted(true);
  EXPECT_EQ(FormatRooms(response),
            "ROOM ID     TYPE   STATE         PARTICIPANTS  OWNER  AUDIO\n"
            "r-1         small  ENTERED       2/6           alice  on\n"
            "r-large-22  large  RECONNECTING  0/20          bob    muted\n");
  EXPECT_EQ(FormatRooms(v1::ListRoomsResponse()), "not in any room\n");
}

TEST(FormatStateTest, RoomsSection) {
  v1::State state;
  state.set_app_id("demo-app");
  state.set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  *state.add_rooms() = SmallRoom();
  EXPECT_THAT(FormatState(state, Utc()),
              HasSubstr("rooms:\n"
                        "  ROOM ID  TYPE   STATE    PARTICIPANTS  OWNER  AUDIO\n"
                        "  r-1      small  ENTERED  2/6           alice  on\n"));
  EXPECT_THAT(FormatState(v1::State(), Utc()), Not(HasSubstr("rooms:")));
}

TEST(FormatEventTest, EveryRoomKind) {
  const std::string t = "2025-01-02 15:00:00.250  ";
  const v1::Room room = SmallRoom();
  v1::RoomParticipant bob = Participant("bob", false, absl::ZeroDuration());

  v1::Event e = At(40);
  *e.mutable_room_entered()->mutable_room() = room;
  EXPECT_EQ(FormatEvent(e, Utc()),
            t + "#40  room_entered  room=r-1 type=small participants=2/6 muted=no");

  e = At(41);
  *e.mutable_room_exited()->mutable_room() = room;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#41  room_exited  room=r-1");
  *e.mutable_room_exited()->mutable_reason() = Info(1800303, "logged out");
  EXPECT_EQ(FormatEvent(e, Utc()),
            t + "#41  room_exited  room=r-1 reason: logged out (Calls code 1800303)");

  e = At(42);
  *e.mutable_participant_entered()->mutable_room() = room;
  *e.mutable_participant_entered()->mutable_participant() = bob;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#42  participant_entered  room=r-1 user=bob muted=no");

  e = At(43);
  *e.mutable_participant_exited()->mutable_room() = room;
  *e.mutable_participant_exited()->mutable_participant() = bob;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#43  participant_exited  room=r-1 user=bob");

  e = At(44);
  *e.mutable_room_audio_changed()->mutable_room() = room;
  *e.mutable_room_audio_changed()->mutable_participant() = bob;
  e.mutable_room_audio_changed()->mutable_participant()->set_muted(true);
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#44  room_audio_changed  room=r-1 user=bob muted=yes");

  e = At(45);
  *e.mutable_room_deleted()->mutable_room() = room;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#45  room_deleted  room=r-1");

  e = At(46);
  *e.mutable_room_reconnecting()->mutable_room() = room;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#46  room_reconnecting  room=r-1");

  e = At(47);
  *e.mutable_room_reconnected()->mutable_room() = room;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#47  room_reconnected  room=r-1");

  e = At(48);
  *e.mutable_local_participant_disconnected()->mutable_room() = room;
  *e.mutable_local_participant_disconnected()->mutable_reason() =
      Info(0, "no connection within the reconnect window");
  EXPECT_EQ(FormatEvent(e, Utc()),
            t + "#48  local_participant_disconnected  room=r-1 reason: no connection within "
                "the reconnect window");

  e = At(49);
  e.mutable_snapshot()->set_app_id("demo-app");
  e.mutable_snapshot()->set_session_state(v1::SESSION_STATE_AUTHENTICATED);
  *e.mutable_snapshot()->add_rooms() = room;
  EXPECT_EQ(FormatEvent(e, Utc()), t + "#49  snapshot  app=demo-app state=AUTHENTICATED rooms=1");
}

TEST(FormatCommandErrorTest, RoomCodesGetAHintWhenTheDaemonGaveNone) {
  struct Case {
    int code;
    std::string hint;
  };
  const Case cases[] = {
      {1400120, "the room is full"},
      {1400121, "the room was deleted by its owner"},
      {1800700, "already in the room"},
      {1800702, "not in the room"},
      {401120, "only the room's owner may delete it"},
      {400200, "no room has this id"},
  };
  for (const Case& c : cases) {
    absl::Status status =
        client::WithErrorInfo(absl::FailedPreconditionError("refused"), Info(c.code, ""));
    const std::string text = FormatCommandError("room enter", status);
    EXPECT_THAT(text, HasSubstr(absl::StrCat("(Calls code ", c.code, ")\nhint: "))) << c.code;
    EXPECT_THAT(text, HasSubstr(c.hint)) << c.code;
  }
  absl::Status full = client::WithErrorInfo(absl::FailedPreconditionError("room r-1 is full"),
                                            Info(1400120, "participant limit reached"));
  EXPECT_EQ(FormatCommandError("room enter", full),
            "callsctl: room enter: room r-1 is full (Calls code 1400120)\n"
            "hint: the room is full (a small room holds 6 participants, a large one 20): wait "
            "until someone exits, or create a large room with 'callsctl room create --type "
            "large'\n");

  // The daemon's own hint wins; other commands get no room hint.
  v1::ErrorInfo with_hint = Info(1400120, "");
  with_hint.set_hint("the daemon's words");
  EXPECT_THAT(FormatCommandError("room enter", client::WithErrorInfo(
                                                   absl::FailedPreconditionError("x"), with_hint)),
              HasSubstr("hint: the daemon's words\n"));
  EXPECT_EQ(FormatCommandError("dial", client::WithErrorInfo(absl::NotFoundError("no such user"),
                                                             Info(400200, ""))),
            "callsctl: dial: no such user (Calls code 400200)\n");
}

}  // namespace
}  // namespace callsd::ctl
