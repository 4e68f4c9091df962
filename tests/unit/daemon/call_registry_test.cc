// Direct calls with the real Session and CallRegistry, a fake backend and
// channel (the test plays the server), and simulated time: rings without a
// socket, the WebSocket only while a call is active, first answer wins,
// answers queued during authentication, ringing and request timeouts,
// reconnection, missed-push recovery, history from cache, and pushes that
// must not ring (forged, stale, replayed, wrong app or user).
#include "daemon/calls/call_registry.h"

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/push_signing.h"
#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/daemon/fakes/answer.h"
#include "tests/unit/daemon/fakes/fake_backend.h"
#include "tests/unit/daemon/fakes/fake_call_channel.h"
#include "tests/unit/daemon/fakes/fake_state_store.h"
#include "tests/unit/daemon/fakes/recording_event_sink.h"
#include "tests/unit/daemon/fakes/registry_fixture.h"

namespace callsd::daemon {
namespace {

using ::callsd::testing::SimulatedScheduler;
using ::testing::HasSubstr;
using testing::Answer;
using testing::FakeBackend;
using testing::FakeCallChannel;
using testing::FakeStateStore;
using testing::RecordingEventSink;

class CallRegistryTest : public testing::RegistryFixture {
 protected:
  void Restart() {
    calls_->Shutdown();
    session_->Shutdown();
    scheduler_.RunUntilIdle();
    backend_.auth_calls.clear();
    backend_.ringing_calls.clear();
    calls_.reset();
    session_.reset();
    Build();
  }

  wire::v1::PushPayload Push(const std::string& type, const std::string& call_id) {
    wire::v1::PushPayload p;
    p.set_v(1);
    p.set_app_id("app");
    p.set_user_id("bob");
    p.set_type(type);
    p.set_call_id(call_id);
    p.mutable_caller()->set_user_id("alice");
    p.mutable_caller()->set_nickname("Alice");
    p.set_sent_at(absl::ToUnixMillis(scheduler_.clock().Now()));
    p.set_ttl_s(60);
    return p;
  }
  std::string Signed(wire::v1::PushPayload p, const std::string& key = "pk") {
    SignPush(&p, key);
    return ToJson(p);
  }

  absl::StatusOr<CallRegistry::PushResult> Deliver(const std::string& payload) {
    Answer<CallRegistry::PushResult> answer;
    calls_->DeliverPush(payload, answer.Callback());
    scheduler_.RunUntilIdle();
    EXPECT_TRUE(answer.ready());
    return answer.get();
  }

  void RingCall(const std::string& id) {
    auto rang = Deliver(Signed(Push("call.ringing", id)));
    ASSERT_TRUE(rang.ok()) << rang.status();
    ASSERT_EQ(rang->outcome, CallRegistry::PushOutcome::kRang);
  }

  static wire::v1::WsMessage Msg(const std::string& type, const std::string& call_id,
                                 const std::string& req_id = "") {
    wire::v1::WsMessage m;
    m.set_type(type);
    m.set_call_id(call_id);
    m.set_req_id(req_id);
    m.mutable_call()->set_call_id(call_id);
    return m;
  }

  // Accepts `id` all the way to CONNECTED, playing the server.
  void AcceptAndConnect(const std::string& id) {
    Answer<CallRecord> accepted;
    calls_->Accept(id, accepted.Callback());
    scheduler_.RunUntilIdle();
    channel_.ServerAcceptsConnection();
    const wire::v1::WsMessage* accept = channel_.Last("accept");
    ASSERT_NE(accept, nullptr);
    channel_.ServerSends(Msg("established", id, accept->req_id()));
    channel_.ServerSends(Msg("connected", id));
    scheduler_.RunUntilIdle();
    ASSERT_TRUE(accepted.ready() && accepted.get().ok()) << accepted.get().status();
    ASSERT_EQ(calls_->List()[0].state, CallState::kConnected);
  }

  std::vector<CallChanged::Kind> Kinds() const { return KindsOf<CallChanged>(); }
};

// --- Pushes -------------------------------------------------------------------------

TEST_F(CallRegistryTest, SignedPushRingsWithoutOpeningASocket) {
  LoginBob();
  RingCall("c1");
  ASSERT_EQ(events_.Of<CallChanged>().size(), 1u);
  const CallChanged ring = events_.Of<CallChanged>()[0];
  EXPECT_EQ(ring.kind, CallChanged::Kind::kRinging);
  EXPECT_EQ(ring.call.caller_id, "alice");
  EXPECT_EQ(ring.call.caller_nickname, "Alice");
  EXPECT_EQ(ring.call.state, CallState::kRinging);
  EXPECT_EQ(channel_.opens, 0) << "ringing needs no connection to the server";
  EXPECT_FALSE(calls_->channel_needed());
  EXPECT_EQ(store_.calls.count("c1"), 1u);
}

TEST_F(CallRegistryTest, DuplicatePushRingsOnce) {
  LoginBob();
  RingCall("c1");
  auto again = Deliver(Signed(Push("call.ringing", "c1")));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, CallRegistry::PushOutcome::kDuplicate);
  EXPECT_EQ(events_.Of<CallChanged>().size(), 1u);
}

TEST_F(CallRegistryTest, BadPushesAreRejectedWithAReason) {
  LoginBob();
  struct Case {
    std::string name;
    std::string payload;
    absl::StatusCode code;
    std::string reason;
  };
  auto other_app = Push("call.ringing", "x1");
  other_app.set_app_id("other");
  auto other_user = Push("call.ringing", "x2");
  other_user.set_user_id("carol");
  auto stale = Push("call.ringing", "x3");
  stale.set_sent_at(absl::ToUnixMillis(scheduler_.clock().Now() - absl::Seconds(61)));
  auto future = Push("call.ringing", "x4");
  future.set_sent_at(absl::ToUnixMillis(scheduler_.clock().Now() + absl::Minutes(5)));
  auto unknown_type = Push("call.exploded", "x5");
  auto altered = Push("call.ringing", "x6");
  SignPush(&altered, "pk");
  altered.mutable_caller()->set_user_id("mallory");  // changed after signing
  const std::vector<Case> cases = {
      {"forged", Signed(Push("call.ringing", "x0"), "not-the-key"),
       absl::StatusCode::kPermissionDenied, "signature"},
      {"altered", ToJson(altered), absl::StatusCode::kPermissionDenied, "signature"},
      {"unsigned", ToJson(Push("call.ringing", "x7")), absl::StatusCode::kPermissionDenied,
       "not signed"},
      {"other app", Signed(other_app), absl::StatusCode::kFailedPrecondition, "app"},
      {"other user", Signed(other_user), absl::StatusCode::kFailedPrecondition, "carol"},
      {"stale", Signed(stale), absl::StatusCode::kFailedPrecondition, "stale"},
      {"future", Signed(future), absl::StatusCode::kFailedPrecondition, "future"},
      {"unknown type", Signed(unknown_type), absl::StatusCode::kInvalidArgument, "type"},
      {"not json", "{{{", absl::StatusCode::kInvalidArgument, "JSON"},
      {"wrong types", R"({"v":"one","call_id":5})", absl::StatusCode::kInvalidArgument, ""},
      {"huge", std::string(5000, ' '), absl::StatusCode::kInvalidArgument, "limit"},
      {"not utf-8", "{\"call_id\":\"\xff\"}", absl::StatusCode::kInvalidArgument, "UTF-8"},
      {"empty", "", absl::StatusCode::kInvalidArgument, ""},
  };
  for (const Case& c : cases) {
    auto result = Deliver(c.payload);
    EXPECT_EQ(result.status().code(), c.code) << c.name << ": " << result.status();
    EXPECT_THAT(result.status().message(), HasSubstr(c.reason)) << c.name;
  }
  EXPECT_TRUE(events_.Of<CallChanged>().empty()) << "nothing rang";
  EXPECT_TRUE(store_.calls.empty());
}

TEST_F(CallRegistryTest, PushesAreAcceptedWhileAuthenticatingWithTheStoredKey) {
  LoginBob();
  Restart();
  ASSERT_EQ(session_->state(), SessionState::kAuthenticating);
  RingCall("c1");
  EXPECT_EQ(events_.Of<CallChanged>().size(), 1u);
}

TEST_F(CallRegistryTest, PushesAreRefusedWhenNobodyIsLoggedIn) {
  Answer<Session::InitResult> init;
  session_->Init("app", init.Callback());
  scheduler_.RunUntilIdle();
  auto result = Deliver(Signed(Push("call.ringing", "c1")));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("nobody is logged in"));
}

TEST_F(CallRegistryTest, CanceledPushEndsTheRingingCallAndLaterPushesSayItEnded) {
  LoginBob();
  RingCall("c1");
  auto canceled = Deliver(Signed(Push("call.canceled", "c1")));
  ASSERT_TRUE(canceled.ok());
  EXPECT_EQ(canceled->outcome, CallRegistry::PushOutcome::kCanceled);
  EXPECT_EQ(canceled->call->end_result, EndResult::kCanceled);
  EXPECT_EQ(canceled->call->ended_by, "alice");
  auto replay = Deliver(Signed(Push("call.ringing", "c1")));
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->outcome, CallRegistry::PushOutcome::kCallEnded);
  ASSERT_EQ(events_.Of<PushForEndedCall>().size(), 1u);
  EXPECT_EQ(events_.Of<PushForEndedCall>()[0].call_id, "c1");
}

TEST_F(CallRegistryTest, CanceledBeforeRingingMeansALateRingNeverRings) {
  LoginBob();
  auto canceled = Push("call.canceled", "c1");
  canceled.set_end_result("other_device_accepted");
  auto result = Deliver(Signed(canceled));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->outcome, CallRegistry::PushOutcome::kCallEnded);
  auto late = Deliver(Signed(Push("call.ringing", "c1")));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->outcome, CallRegistry::PushOutcome::kCallEnded);
  EXPECT_TRUE(events_.Of<CallChanged>().empty());
}

// --- Answering ------------------------------------------------------------------------

TEST_F(CallRegistryTest, AcceptOpensTheSocketAndEndClosesIt) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  EXPECT_EQ(channel_.opens, 1);
  EXPECT_EQ(channel_.last_creds.session_key, "sk-bob");
  EXPECT_THAT(Kinds(), ::testing::ElementsAre(CallChanged::Kind::kRinging,
                                              CallChanged::Kind::kEstablished,
                                              CallChanged::Kind::kConnected));
  scheduler_.AdvanceBy(absl::Seconds(42));
  EXPECT_EQ(calls_->List()[0].Duration(scheduler_.clock().Now()), absl::Seconds(42));

  Answer<CallRecord> ended;
  calls_->End("c1", ended.Callback());
  scheduler_.RunUntilIdle();
  const wire::v1::WsMessage* end = channel_.Last("end");
  ASSERT_NE(end, nullptr);
  wire::v1::WsMessage answer = Msg("ended", "c1", end->req_id());
  answer.set_end_result("completed");
  answer.set_ended_by("bob");
  answer.set_duration_ms(42000);
  channel_.ServerSends(answer);
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(ended.ready() && ended.get().ok()) << ended.get().status();
  EXPECT_EQ(ended.get()->end_result, EndResult::kCompleted);
  EXPECT_EQ(ended.get()->ended_by, "bob");
  EXPECT_EQ(ended.get()->Duration(scheduler_.clock().Now()), absl::Seconds(42));
  EXPECT_EQ(channel_.closes, 1) << "nothing active: the socket goes";
  EXPECT_FALSE(channel_.active());
}

TEST_F(CallRegistryTest, TwoAppsEndingTheSameCallAreBothAnsweredWhenItEnds) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  Answer<CallRecord> first, second;
  calls_->End("c1", first.Callback());
  calls_->End("c1", second.Callback());
  scheduler_.RunUntilIdle();
  const wire::v1::WsMessage* end = channel_.Last("end");
  ASSERT_NE(end, nullptr);
  // The server answers one of them; the call is over and the socket goes,
  // so the other must not wait for an answer that cannot come.
  wire::v1::WsMessage answer = Msg("ended", "c1", end->req_id());
  answer.set_end_result("completed");
  answer.set_ended_by("bob");
  channel_.ServerSends(answer);
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(first.ready() && first.get().ok()) << first.get().status();
  ASSERT_TRUE(second.ready() && second.get().ok()) << "answered at once, not after a timeout";
  EXPECT_EQ(first.get()->end_result, EndResult::kCompleted);
  EXPECT_EQ(second.get()->end_result, EndResult::kCompleted);
  EXPECT_EQ(channel_.closes, 1);
}

TEST_F(CallRegistryTest, TheFirstAnswerWinsAndTheOthersAreToldWhy) {
  LoginBob();
  RingCall("c1");
  Answer<CallRecord> first, second, third;
  calls_->Accept("c1", first.Callback());
  calls_->Accept("c1", second.Callback());
  calls_->Decline("c1", third.Callback());
  for (auto* late : {&second, &third}) {
    ASSERT_TRUE(late->ready());
    EXPECT_EQ(late->get().status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(late->get().status().message(), HasSubstr("already accepted"));
  }
  EXPECT_FALSE(first.ready());
}

TEST_F(CallRegistryTest, DeclineUsesRestAndNeverOpensTheSocket) {
  LoginBob();
  RingCall("c1");
  Answer<CallRecord> declined;
  calls_->Decline("c1", declined.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_EQ(backend_.calls.size(), 1u);
  EXPECT_EQ(backend_.calls[0].what, "decline");
  EXPECT_EQ(backend_.calls[0].token, "c1");
  Answer<CallRecord> accept_too_late;
  calls_->Accept("c1", accept_too_late.Callback());
  EXPECT_THAT(accept_too_late.get().status().message(), HasSubstr("already declined"));
  backend_.Answer(absl::OkStatus());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(declined.ready() && declined.get().ok());
  EXPECT_EQ(declined.get()->end_result, EndResult::kDeclined);
  EXPECT_EQ(channel_.opens, 0);
}

TEST_F(CallRegistryTest, UnansweredCallTimesOut) {
  LoginBob();
  RingCall("c1");
  scheduler_.AdvanceBy(absl::Seconds(59));
  EXPECT_EQ(calls_->List()[0].state, CallState::kRinging);
  scheduler_.AdvanceBy(absl::Seconds(1));
  EXPECT_EQ(calls_->List()[0].state, CallState::kEnded);
  EXPECT_EQ(calls_->List()[0].end_result, EndResult::kTimedOut);
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(CallRegistryTest, AcceptDuringAuthenticationWaitsAndIsFulfilled) {
  LoginBob();
  Restart();
  RingCall("c1");
  Answer<CallRecord> accepted;
  calls_->Accept("c1", accepted.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_FALSE(accepted.ready()) << "waits for the authentication";
  EXPECT_EQ(channel_.opens, 0);
  Answer<CallRecord> again;
  calls_->Accept("c1", again.Callback());
  EXPECT_THAT(again.get().status().message(), HasSubstr("already accepted"));

  backend_.AnswerAuth(FakeBackend::Ok("bob"));
  scheduler_.RunUntilIdle();
  ASSERT_EQ(channel_.opens, 1);
  channel_.ServerAcceptsConnection();
  channel_.ServerSends(Msg("established", "c1", channel_.Last("accept")->req_id()));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(accepted.ready() && accepted.get().ok()) << accepted.get().status();
  EXPECT_EQ(accepted.get()->state, CallState::kEstablished);
}

TEST_F(CallRegistryTest, AcceptDuringAuthenticationFailsClearlyWhenAuthenticationFails) {
  LoginBob();
  Restart();
  RingCall("c1");
  Answer<CallRecord> accepted;
  calls_->Accept("c1", accepted.Callback());
  scheduler_.RunUntilIdle();
  backend_.AnswerAuth(CallsError(absl::StatusCode::kUnauthenticated, kCodeInvalidAccessToken,
                                 "invalid token"));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(accepted.ready());
  EXPECT_EQ(accepted.get().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(accepted.get().status().message(), HasSubstr("authentication failed"));
}

TEST_F(CallRegistryTest, AcceptDuringAuthenticationEndsWithTheRinging) {
  LoginBob();
  Restart();
  RingCall("c1");
  Answer<CallRecord> accepted;
  calls_->Accept("c1", accepted.Callback());
  scheduler_.AdvanceBy(absl::Seconds(61));  // the server never answers the login
  ASSERT_TRUE(accepted.ready()) << "never hangs past the ringing";
  EXPECT_EQ(accepted.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(accepted.get().status().message(), HasSubstr("timed_out"));
}

TEST_F(CallRegistryTest, AcceptWithoutAnswerFromTheServerFailsAndIsNotStuck) {
  LoginBob();
  RingCall("c1");
  Answer<CallRecord> accepted;
  calls_->Accept("c1", accepted.Callback());
  scheduler_.RunUntilIdle();
  channel_.ServerAcceptsConnection();
  scheduler_.AdvanceBy(absl::Seconds(10));
  ASSERT_TRUE(accepted.ready());
  EXPECT_EQ(accepted.get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls_->List()[0].end_result, EndResult::kAcceptFailed);
  EXPECT_FALSE(channel_.active());
}

TEST_F(CallRegistryTest, ActionsNeedInitAndLogin) {
  Answer<CallRecord> dial;
  calls_->Dial("alice", false, dial.Callback());
  EXPECT_EQ(GetCallsCode(dial.get().status()), kCodeNotInitialized);
  Answer<Session::InitResult> init;
  session_->Init("app", init.Callback());
  scheduler_.RunUntilIdle();
  Answer<CallRecord> dial2;
  calls_->Dial("alice", false, dial2.Callback());
  EXPECT_EQ(GetCallsCode(dial2.get().status()), kCodeNotAuthenticated);
  Answer<CallRecord> unknown;
  calls_->Accept("nope", unknown.Callback());
  EXPECT_EQ(GetCallsCode(unknown.get().status()), kCodeCallDoesNotExist);
}

// --- Dialing ----------------------------------------------------------------------------

TEST_F(CallRegistryTest, DialGoesThroughEveryStateAndThePeerHangsUp) {
  LoginBob();
  Answer<CallRecord> dialed;
  calls_->Dial("alice", true, dialed.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_EQ(channel_.opens, 1);
  const wire::v1::WsMessage* dial = channel_.Last("dial");
  ASSERT_NE(dial, nullptr);
  EXPECT_EQ(dial->callee_id(), "alice");
  EXPECT_TRUE(dial->video());
  channel_.ServerAcceptsConnection();
  wire::v1::WsMessage dialing = Msg("dialing", "srv-1", dial->req_id());
  dialing.mutable_call()->mutable_callee()->set_nickname("Alice");
  channel_.ServerSends(dialing);
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(dialed.ready() && dialed.get().ok()) << dialed.get().status();
  EXPECT_EQ(dialed.get()->call_id, "srv-1");
  EXPECT_EQ(dialed.get()->state, CallState::kDialing);

  channel_.ServerSends(Msg("ringing_ack", "srv-1"));
  channel_.ServerSends(Msg("established", "srv-1"));
  channel_.ServerSends(Msg("connected", "srv-1"));
  wire::v1::WsMessage ended = Msg("ended", "srv-1");
  ended.set_end_result("completed");
  ended.set_ended_by("alice");
  channel_.ServerSends(ended);
  scheduler_.RunUntilIdle();
  EXPECT_THAT(Kinds(), ::testing::ElementsAre(
                           CallChanged::Kind::kDialing, CallChanged::Kind::kRemoteRinging,
                           CallChanged::Kind::kEstablished, CallChanged::Kind::kConnected,
                           CallChanged::Kind::kEnded));
  EXPECT_EQ(calls_->List()[0].ended_by, "alice");
  EXPECT_EQ(channel_.closes, 1);
}

TEST_F(CallRegistryTest, DialRefusedByTheServerFailsWithItsCode) {
  LoginBob();
  Answer<CallRecord> dialed;
  calls_->Dial("nobody", false, dialed.Callback());
  scheduler_.RunUntilIdle();
  channel_.ServerAcceptsConnection();
  wire::v1::WsMessage error = Msg("error", "", channel_.Last("dial")->req_id());
  error.set_code(kCodeCalleeDoesNotExist);
  error.set_message("callee nobody does not exist");
  channel_.ServerSends(error);
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(dialed.ready());
  EXPECT_EQ(GetCallsCode(dialed.get().status()), kCodeCalleeDoesNotExist);
  EXPECT_TRUE(calls_->Ongoing().empty());
  EXPECT_FALSE(channel_.active());
}

TEST_F(CallRegistryTest, DialingYourselfIsRefusedLocally) {
  LoginBob();
  Answer<CallRecord> dialed;
  calls_->Dial("bob", false, dialed.Callback());
  EXPECT_EQ(GetCallsCode(dialed.get().status()), kCodeDialMyself);
  EXPECT_EQ(channel_.opens, 0);
}

TEST_F(CallRegistryTest, MuteTellsTheServerAndRemoteMuteIsReported) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  Answer<CallRecord> muted;
  calls_->SetMuted("c1", true, muted.Callback());
  ASSERT_TRUE(muted.ready() && muted.get().ok());
  EXPECT_TRUE(muted.get()->muted);
  ASSERT_NE(channel_.Last("mute"), nullptr);
  wire::v1::WsMessage remote = Msg("remote_audio_changed", "c1");
  remote.set_user_id("alice");
  remote.set_muted(true);
  channel_.ServerSends(remote);
  scheduler_.RunUntilIdle();
  ASSERT_EQ(events_.Of<RemoteAudioChanged>().size(), 1u);
  EXPECT_TRUE(events_.Of<RemoteAudioChanged>()[0].muted);
}

// --- Connection loss ------------------------------------------------------------------------

TEST_F(CallRegistryTest, DroppedSocketReconnectsAndResumes) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  channel_.ServerDrops();
  scheduler_.RunUntilIdle();
  EXPECT_EQ(calls_->List()[0].state, CallState::kReconnecting);
  scheduler_.AdvanceBy(absl::Seconds(1));
  ASSERT_EQ(channel_.opens, 2) << "reconnects with backoff";
  channel_.ServerAcceptsConnection();
  scheduler_.RunUntilIdle();
  const wire::v1::WsMessage* resume = channel_.Last("resume");
  ASSERT_NE(resume, nullptr);
  EXPECT_THAT(resume->call_ids(), ::testing::ElementsAre("c1"));
  wire::v1::WsMessage resumed = Msg("resumed", "", resume->req_id());
  auto* info = resumed.add_calls();
  info->set_call_id("c1");
  info->set_state("connected");
  channel_.ServerSends(resumed);
  scheduler_.RunUntilIdle();
  EXPECT_EQ(calls_->List()[0].state, CallState::kConnected);
  EXPECT_THAT(Kinds(), ::testing::Contains(CallChanged::Kind::kReconnecting));
  EXPECT_THAT(Kinds(), ::testing::Contains(CallChanged::Kind::kReconnected));
  scheduler_.AdvanceBy(absl::Seconds(30));
  EXPECT_EQ(calls_->List()[0].state, CallState::kConnected) << "the window timer was cancelled";
}

TEST_F(CallRegistryTest, NoReconnectWithinTheWindowEndsTheCall) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  channel_.ServerDrops();
  for (int i = 0; i < 20 && calls_->List()[0].state != CallState::kEnded; ++i) {
    scheduler_.AdvanceTo(scheduler_.NextTimerAt());
    if (channel_.active() && !channel_.open()) channel_.ServerDrops();  // server still away
  }
  EXPECT_EQ(calls_->List()[0].state, CallState::kEnded);
  EXPECT_EQ(calls_->List()[0].end_result, EndResult::kConnectionLost);
  EXPECT_FALSE(channel_.active());
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(CallRegistryTest, RestartEndsCallsThatWereActive) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  RingCall("c2");
  Restart();
  std::map<std::string, CallRecord> by_id;
  for (const CallRecord& c : calls_->List()) by_id[c.call_id] = c;
  EXPECT_EQ(by_id["c1"].end_result, EndResult::kConnectionLost);
  EXPECT_EQ(by_id["c2"].state, CallState::kRinging) << "still within its ringing window";
}

// --- Missed pushes and history ---------------------------------------------------------------

TEST_F(CallRegistryTest, RingingCallsAreRecoveredAfterAuthentication) {
  LoginBob();
  Restart();
  backend_.AnswerAuth(FakeBackend::Ok("bob"));
  scheduler_.RunUntilIdle();
  wire::v1::CallInfo missed;
  missed.set_call_id("m1");
  missed.mutable_caller()->set_user_id("alice");
  missed.mutable_callee()->set_user_id("bob");
  missed.set_created_at(absl::ToUnixMillis(scheduler_.clock().Now() - absl::Seconds(20)));
  wire::v1::CallInfo too_old = missed;
  too_old.set_call_id("m2");
  too_old.set_created_at(absl::ToUnixMillis(scheduler_.clock().Now() - absl::Seconds(90)));
  AnswerRingingCalls({missed, too_old});
  ASSERT_EQ(calls_->Ongoing().size(), 1u);
  EXPECT_EQ(calls_->Ongoing()[0].call_id, "m1");
  EXPECT_EQ(*calls_->Ongoing()[0].ringing_until,
            absl::FromUnixMillis(missed.created_at()) + absl::Seconds(60));
}

TEST_F(CallRegistryTest, HistoryComesFromTheServerAndFromTheCacheWhenOffline) {
  LoginBob();
  Answer<CallRegistry::History> online;
  calls_->GetHistory(10, "", online.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_EQ(backend_.call_logs.size(), 1u);
  wire::v1::CallList list;
  list.add_calls()->set_call_id("h1");
  list.mutable_calls(0)->set_created_at(2000);
  list.add_calls()->set_call_id("h0");
  list.mutable_calls(1)->set_created_at(1000);
  list.set_next("cursor");
  std::move(backend_.call_logs.front())(list);
  backend_.call_logs.clear();
  ASSERT_TRUE(online.ready() && online.get().ok());
  EXPECT_FALSE(online.get()->from_cache);
  EXPECT_EQ(online.get()->next, "cursor");

  Answer<CallRegistry::History> offline;
  calls_->GetHistory(10, "", offline.Callback());
  std::move(backend_.call_logs.front())(absl::UnavailableError("down"));
  ASSERT_TRUE(offline.ready() && offline.get().ok());
  EXPECT_TRUE(offline.get()->from_cache);
  ASSERT_EQ(offline.get()->calls.size(), 2u);
  EXPECT_EQ(offline.get()->calls[0].call_id(), "h1") << "newest first";
}

TEST_F(CallRegistryTest, LogoutEndsCallsAndClosesTheSocket) {
  LoginBob();
  RingCall("c1");
  AcceptAndConnect("c1");
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_NE(channel_.Last("end"), nullptr) << "the server is told";
  EXPECT_EQ(calls_->List()[0].state, CallState::kEnded);
  EXPECT_FALSE(channel_.active());
}

}  // namespace
}  // namespace callsd::daemon
