// callsctl's output from hand-built protos: human text, JSON, errors.
#include "client-lib/callsctl/output.h"

#include <string>

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

}  // namespace
}  // namespace callsd::ctl
