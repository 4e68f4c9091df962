// CallRouter on simulated time, a real Store in a temporary folder, and
// fakes for the connections and the pusher: every flow of a direct call.
#include "server/calls/call_router.h"

#include <memory>
#include <string>
#include <vector>

#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/server/call_fakes.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Connections.
constexpr ConnId kAlice = 1;
constexpr ConnId kBob = 2;
constexpr ConnId kBob2 = 3;  // bob's second device
constexpr ConnId kCarol = 4;
constexpr ConnId kAlice2 = 5;

class CallRouterTest : public ::testing::Test {
 protected:
  CallRouterTest() {
    auto store = Store::Open(dir_.File("calls.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    alice_ = NewUser("app", "alice", "Alice", true);
    bob_ = NewUser("app", "bob", "Bob", true);
    carol_ = NewUser("app", "carol", "Carol", true);
    NewUser("app", "dave", "Dave", false);  // never authenticated
    NewUser("other-app", "erin", "Erin", true);
    router_ = MakeRouter();
  }

  std::unique_ptr<CallRouter> MakeRouter() {
    return std::make_unique<CallRouter>(store_.get(), &scheduler_, &sender_, &pusher_, options_);
  }

  UserRecord NewUser(const std::string& app, const std::string& id, const std::string& nickname,
                     bool authenticated) {
    return NewTestUser(store_.get(), app, id, nickname, NowMs(), authenticated);
  }

  // Opens `conn` for `user` and takes the hello.
  void Open(ConnId conn, const UserRecord& user, const std::string& session = "") {
    OpenTestConnection(router_.get(), &sender_, conn, user, session);
  }

  void Send(ConnId conn, const std::string& json) {
    wire::v1::WsMessage message;
    ASSERT_TRUE(FromJson(json, &message).ok()) << json;
    router_->OnMessage(conn, message);
    scheduler_.RunUntilIdle();
  }
  wire::v1::WsMessage Next(ConnId conn) { return sender_.Next(conn); }

  // alice (kAlice) dials bob; returns the call ID. Pushes are forgotten.
  std::string Dial(bool video = false) {
    Send(kAlice, std::string(R"({"type":"dial","req_id":"d1","callee_id":"bob","video":)") +
                     (video ? "true" : "false") + "}");
    wire::v1::WsMessage dialing = Next(kAlice);
    EXPECT_EQ(dialing.type(), "dialing");
    pusher_.TakeSummary();
    return dialing.call_id();
  }
  // alice dials, bob (kBob) accepts; messages and pushes are forgotten.
  std::string Connected() {
    const std::string id = Dial();
    Send(kBob, R"({"type":"accept","req_id":"a1","call_id":")" + id + "\"}");
    sender_.TakeTypes(kAlice);
    sender_.TakeTypes(kBob);
    pusher_.TakeSummary();
    return id;
  }

  CallRecord Stored(const std::string& id) {
    auto call = store_->GetCall(id);
    EXPECT_TRUE(call.ok()) << call.status();
    return call.ok() ? *call : CallRecord();
  }
  int64_t NowMs() const { return absl::ToUnixMillis(scheduler_.clock().Now()); }

  static std::string Req(const std::string& type, const std::string& call_id,
                         const std::string& req_id = "r1") {
    return "{\"type\":\"" + type + "\",\"req_id\":\"" + req_id + "\",\"call_id\":\"" + call_id +
           "\"}";
  }

  static void ExpectError(const wire::v1::WsMessage& m, int code, const std::string& req_id) {
    EXPECT_EQ(m.type(), "error");
    EXPECT_EQ(m.code(), code) << m.message();
    EXPECT_EQ(m.req_id(), req_id);
    EXPECT_FALSE(m.message().empty());
  }

  TempDir dir_;
  callsd::testing::SimulatedScheduler scheduler_;
  FakeSender sender_;
  FakePusher pusher_;
  std::unique_ptr<Store> store_;
  CallRouterOptions options_;  // 60 s ringing, 15 s reconnect window
  UserRecord alice_, bob_, carol_;
  std::unique_ptr<CallRouter> router_;
};

TEST_F(CallRouterTest, DialErrors) {
  Open(kAlice, alice_);
  Send(kAlice, R"({"type":"dial","req_id":"1"})");
  ExpectError(Next(kAlice), kCodeMissingParams, "1");
  Send(kAlice, R"({"type":"dial","req_id":"2","callee_id":"alice"})");
  ExpectError(Next(kAlice), kCodeDialMyself, "2");
  Send(kAlice, R"({"type":"dial","req_id":"3","callee_id":"zed"})");
  ExpectError(Next(kAlice), kCodeCalleeDoesNotExist, "3");
  // A user of another app does not exist for this one.
  Send(kAlice, R"({"type":"dial","req_id":"4","callee_id":"erin"})");
  ExpectError(Next(kAlice), kCodeCalleeDoesNotExist, "4");
  Send(kAlice, R"({"type":"dial","req_id":"5","callee_id":"dave"})");
  ExpectError(Next(kAlice), kCodeCalleeNeverAuthenticated, "5");
  EXPECT_EQ(router_->live_calls(), 0u);
  EXPECT_THAT(pusher_.jobs(), IsEmpty());
}

TEST_F(CallRouterTest, DialCreatesARingingCallPushesAndAcksOnce) {
  Open(kAlice, alice_);
  Send(kAlice, R"({"type":"dial","req_id":"d1","callee_id":"bob","video":true})");
  wire::v1::WsMessage dialing = Next(kAlice);
  EXPECT_EQ(dialing.type(), "dialing");
  EXPECT_EQ(dialing.req_id(), "d1");
  const std::string id = dialing.call().call_id();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(dialing.call_id(), id);
  EXPECT_EQ(dialing.call().caller().user_id(), "alice");
  EXPECT_EQ(dialing.call().caller().nickname(), "Alice");
  EXPECT_EQ(dialing.call().callee().user_id(), "bob");
  EXPECT_EQ(dialing.call().callee().nickname(), "Bob");
  EXPECT_TRUE(dialing.call().video());
  EXPECT_EQ(dialing.call().state(), "ringing");
  EXPECT_EQ(dialing.call().created_at(), NowMs());

  const CallRecord stored = Stored(id);
  EXPECT_EQ(stored.state, "ringing");
  EXPECT_EQ(stored.caller_conn, kAlice);
  EXPECT_EQ(stored.caller_session, Sha256Hex("key-alice"));
  EXPECT_EQ(stored.callee_conn, 0u);

  std::vector<PushJob> jobs = pusher_.jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].type, "call.ringing");
  EXPECT_EQ(jobs[0].token_type, PushType::kVoip);
  EXPECT_EQ(jobs[0].app_id, "app");
  EXPECT_EQ(jobs[0].user_id, "bob");
  EXPECT_EQ(jobs[0].call_id, id);
  EXPECT_EQ(jobs[0].caller_id, "alice");
  EXPECT_EQ(jobs[0].caller_nickname, "Alice");
  EXPECT_TRUE(jobs[0].video);
  EXPECT_EQ(jobs[0].ttl_s, 60);  // the ringing timeout
  EXPECT_EQ(jobs[0].end_result, "");

  // No ringing_ack before a device got the push; one after.
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  pusher_.Deliver(0);
  wire::v1::WsMessage ack = Next(kAlice);
  EXPECT_EQ(ack.type(), "ringing_ack");
  EXPECT_EQ(ack.call_id(), id);
  EXPECT_EQ(ack.req_id(), "");
}

TEST_F(CallRouterTest, RingingAckOnlyWhileRinging) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Dial();
  // The push callback is kept by the fake; re-dial to keep one.
  Send(kAlice, R"({"type":"dial","req_id":"d2","callee_id":"bob"})");
  const std::string id2 = Next(kAlice).call_id();
  Send(kAlice, Req("end", id2));
  sender_.TakeTypes(kAlice);
  pusher_.Deliver(0);  // call.ringing of id2, which has ended
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  EXPECT_EQ(router_->live_calls(), 1u);
  EXPECT_FALSE(id.empty());
}

TEST_F(CallRouterTest, AcceptFirstOneWinsAndConnects) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  Open(kBob2, bob_, "second-key-of-bob");
  const std::string id = Dial();
  scheduler_.AdvanceBy(absl::Seconds(3));
  const int64_t accepted_at = NowMs();
  Send(kBob2, Req("accept", id, "a1"));

  wire::v1::WsMessage established = Next(kBob2);
  EXPECT_EQ(established.type(), "established");
  EXPECT_EQ(established.req_id(), "a1");
  EXPECT_EQ(established.call().state(), "established");
  EXPECT_EQ(established.call().established_at(), accepted_at);
  wire::v1::WsMessage connected = Next(kBob2);
  EXPECT_EQ(connected.type(), "connected");
  EXPECT_EQ(connected.req_id(), "");
  EXPECT_EQ(connected.call().state(), "connected");
  EXPECT_EQ(connected.call().connected_at(), accepted_at);

  wire::v1::WsMessage to_caller = Next(kAlice);
  EXPECT_EQ(to_caller.type(), "established");
  EXPECT_EQ(to_caller.req_id(), "");
  EXPECT_EQ(to_caller.call_id(), id);
  EXPECT_EQ(Next(kAlice).type(), "connected");

  // The callee's other devices stop ringing.
  EXPECT_THAT(pusher_.TakeSummary(), ElementsAre("call.canceled voip other_device_accepted"));

  // The second device is too late; the caller cannot accept.
  Send(kBob, Req("accept", id, "a2"));
  ExpectError(Next(kBob), kCodeInvalidCallStatus, "a2");
  Send(kAlice, Req("accept", id, "a3"));
  ExpectError(Next(kAlice), kCodeNotAllowed, "a3");

  const CallRecord stored = Stored(id);
  EXPECT_EQ(stored.state, "connected");
  EXPECT_EQ(stored.callee_conn, kBob2);
  EXPECT_EQ(stored.callee_session, Sha256Hex("second-key-of-bob"));
  EXPECT_EQ(stored.connected_at_ms, accepted_at);
}

TEST_F(CallRouterTest, UnknownAndForeignCallsDoNotExist) {
  Open(kAlice, alice_);
  Open(kCarol, carol_);
  Send(kCarol, Req("accept", "no-such-call", "1"));
  ExpectError(Next(kCarol), kCodeCallDoesNotExist, "1");
  const std::string id = Dial();
  for (const char* type : {"accept", "end", "mute"}) {
    Send(kCarol, Req(type, id, type));
    ExpectError(Next(kCarol), kCodeCallDoesNotExist, type);
  }
  Send(kCarol, R"({"type":"accept","req_id":"x"})");
  ExpectError(Next(kCarol), kCodeMissingParams, "x");
  EXPECT_EQ(Stored(id).state, "ringing");
}

TEST_F(CallRouterTest, CallerCancelsWhileRinging) {
  Open(kAlice, alice_);
  const std::string id = Dial();
  scheduler_.AdvanceBy(absl::Seconds(5));
  Send(kAlice, Req("end", id, "e1"));
  wire::v1::WsMessage ended = Next(kAlice);
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.req_id(), "e1");
  EXPECT_EQ(ended.call_id(), id);
  EXPECT_EQ(ended.end_result(), "canceled");
  EXPECT_EQ(ended.ended_by(), "alice");
  EXPECT_EQ(ended.duration_ms(), 0);
  EXPECT_EQ(ended.call().state(), "ended");
  EXPECT_EQ(ended.call().ended_at(), NowMs());
  EXPECT_THAT(pusher_.TakeSummary(),
              ElementsAre("call.canceled voip canceled", "call.missed remote canceled"));
  EXPECT_EQ(Stored(id).end_result, "canceled");
  EXPECT_EQ(router_->live_calls(), 0u);
  // The ringing timer went with it.
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
  // Once ended, it cannot be ended or accepted again.
  Send(kAlice, Req("end", id, "e2"));
  ExpectError(Next(kAlice), kCodeInvalidCallStatus, "e2");
}

TEST_F(CallRouterTest, CalleeEndsWhileRingingDeclines) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Dial();
  Send(kBob, Req("end", id, "e1"));
  wire::v1::WsMessage to_bob = Next(kBob);
  EXPECT_EQ(to_bob.type(), "ended");
  EXPECT_EQ(to_bob.req_id(), "e1");
  EXPECT_EQ(to_bob.end_result(), "declined");
  EXPECT_EQ(to_bob.ended_by(), "bob");
  wire::v1::WsMessage to_alice = Next(kAlice);
  EXPECT_EQ(to_alice.type(), "ended");
  EXPECT_EQ(to_alice.req_id(), "");
  EXPECT_EQ(to_alice.end_result(), "declined");
  EXPECT_THAT(pusher_.TakeSummary(), ElementsAre("call.canceled voip declined"));
  EXPECT_EQ(Stored(id).end_result, "declined");
}

TEST_F(CallRouterTest, EndOfAConnectedCallIsCompletedWithDurationFromConnected) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Dial();
  scheduler_.AdvanceBy(absl::Seconds(7));  // ringing: not billed
  Send(kBob, Req("accept", id, "a1"));
  sender_.TakeTypes(kAlice);
  sender_.TakeTypes(kBob);
  pusher_.TakeSummary();
  scheduler_.AdvanceBy(absl::Seconds(90));
  Send(kBob, Req("end", id, "e1"));
  for (ConnId conn : {kBob, kAlice}) {
    wire::v1::WsMessage ended = Next(conn);
    EXPECT_EQ(ended.type(), "ended");
    EXPECT_EQ(ended.req_id(), conn == kBob ? "e1" : "");
    EXPECT_EQ(ended.end_result(), "completed");
    EXPECT_EQ(ended.duration_ms(), 90'000);
    EXPECT_EQ(ended.ended_by(), "bob");
    EXPECT_EQ(ended.call().duration_ms(), 90'000);
  }
  EXPECT_THAT(pusher_.TakeSummary(), IsEmpty());
  const CallRecord stored = Stored(id);
  EXPECT_EQ(stored.state, "ended");
  EXPECT_EQ(stored.end_result, "completed");
  EXPECT_EQ(stored.duration_ms, 90'000);
  EXPECT_EQ(stored.ended_at_ms - stored.created_at_ms, 97'000);
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(CallRouterTest, AnotherConnectionOfASideMayEndTheCall) {
  Open(kAlice, alice_);
  Open(kAlice2, alice_, "other-key-of-alice");
  Open(kBob, bob_);
  const std::string id = Connected();
  Send(kAlice2, Req("end", id, "e9"));
  EXPECT_EQ(Next(kAlice2).req_id(), "e9");
  EXPECT_EQ(Next(kAlice).type(), "ended");  // the side's own connection too
  EXPECT_EQ(Next(kBob).type(), "ended");
}

TEST_F(CallRouterTest, DeclineOverRest) {
  Open(kAlice, alice_);
  const std::string id = Dial();
  absl::StatusOr<CallRecord> by_caller = router_->Decline(alice_, id);
  EXPECT_EQ(GetCallsCode(by_caller.status()), kCodeNotAllowed);
  EXPECT_EQ(GetCallsCode(router_->Decline(carol_, id).status()), kCodeCallDoesNotExist);
  EXPECT_EQ(GetCallsCode(router_->Decline(bob_, "nope").status()), kCodeCallDoesNotExist);

  absl::StatusOr<CallRecord> declined = router_->Decline(bob_, id);
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(declined->state, "ended");
  EXPECT_EQ(declined->end_result, "declined");
  EXPECT_EQ(declined->ended_by, "bob");
  wire::v1::WsMessage ended = Next(kAlice);
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.end_result(), "declined");
  EXPECT_THAT(pusher_.TakeSummary(), ElementsAre("call.canceled voip declined"));
  EXPECT_EQ(GetCallsCode(router_->Decline(bob_, id).status()), kCodeInvalidCallStatus);

  // A connected call cannot be declined.
  Open(kBob, bob_);
  const std::string connected = Connected();
  EXPECT_EQ(GetCallsCode(router_->Decline(bob_, connected).status()), kCodeInvalidCallStatus);
}

TEST_F(CallRouterTest, RingingTimeoutIsNoAnswerForTheCallerAndTimedOutForTheCallee) {
  Open(kAlice, alice_);
  const std::string id = Dial();
  scheduler_.AdvanceBy(absl::Seconds(60) - absl::Milliseconds(1));
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  scheduler_.AdvanceBy(absl::Milliseconds(1));
  wire::v1::WsMessage ended = Next(kAlice);
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.end_result(), "no_answer");
  EXPECT_EQ(ended.ended_by(), "");
  EXPECT_THAT(pusher_.TakeSummary(),
              ElementsAre("call.canceled voip timed_out", "call.missed remote timed_out"));
  const CallRecord stored = Stored(id);
  EXPECT_EQ(stored.end_result, "no_answer");
  EXPECT_EQ(stored.ended_at_ms - stored.created_at_ms, 60'000);
  // Too late to accept.
  Open(kBob, bob_);
  Send(kBob, Req("accept", id, "late"));
  ExpectError(Next(kBob), kCodeInvalidCallStatus, "late");
}

TEST_F(CallRouterTest, RingingTimeoutComesFromOptions) {
  options_.ringing_timeout = absl::Seconds(5);
  router_ = MakeRouter();
  Open(kAlice, alice_);
  Dial();
  EXPECT_EQ(pusher_.jobs().size(), 0u);  // taken by Dial()
  scheduler_.AdvanceBy(absl::Seconds(5));
  EXPECT_EQ(Next(kAlice).end_result(), "no_answer");
}

TEST_F(CallRouterTest, CallerDisconnectWhileRingingCancels) {
  Open(kAlice, alice_);
  const std::string id = Dial();
  router_->OnClose(kAlice);
  scheduler_.RunUntilIdle();
  EXPECT_EQ(router_->live_calls(), 0u);
  EXPECT_THAT(pusher_.TakeSummary(),
              ElementsAre("call.canceled voip canceled", "call.missed remote canceled"));
  const CallRecord stored = Stored(id);
  EXPECT_EQ(stored.end_result, "canceled");
  EXPECT_EQ(stored.ended_by, "alice");
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(CallRouterTest, ReconnectWithinTheWindowResumesTheCall) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Connected();
  router_->OnClose(kBob);
  EXPECT_EQ(Stored(id).callee_conn, 0u);
  scheduler_.AdvanceBy(absl::Seconds(14));
  EXPECT_EQ(sender_.pending(kAlice), 0u);  // the caller is not told
  // A new connection, with a new session key of bob.
  Open(kBob2, bob_, "new-key-of-bob");
  Send(kBob2, R"({"type":"resume","req_id":"rs","call_ids":[")" + id + R"(","unknown"]})");
  wire::v1::WsMessage resumed = Next(kBob2);
  EXPECT_EQ(resumed.type(), "resumed");
  EXPECT_EQ(resumed.req_id(), "rs");
  ASSERT_EQ(resumed.calls_size(), 1);
  EXPECT_EQ(resumed.calls(0).call_id(), id);
  EXPECT_EQ(resumed.calls(0).state(), "connected");
  EXPECT_EQ(Stored(id).callee_conn, kBob2);
  EXPECT_EQ(Stored(id).callee_session, Sha256Hex("new-key-of-bob"));

  // The window no longer runs; the call goes on and reaches the new
  // connection.
  scheduler_.AdvanceBy(absl::Minutes(5));
  EXPECT_EQ(router_->live_calls(), 1u);
  Send(kAlice, Req("mute", id, "m"));
  EXPECT_EQ(Next(kAlice).type(), "ack");
  EXPECT_EQ(Next(kBob2).type(), "remote_audio_changed");
  Send(kAlice, Req("end", id, "e"));
  EXPECT_EQ(Next(kBob2).end_result(), "completed");
  EXPECT_EQ(Next(kAlice).req_id(), "e");
}

TEST_F(CallRouterTest, ReconnectWindowOverEndsWithConnectionLost) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Connected();
  scheduler_.AdvanceBy(absl::Seconds(10));
  router_->OnClose(kAlice);
  scheduler_.AdvanceBy(absl::Seconds(15) - absl::Milliseconds(1));
  EXPECT_EQ(sender_.pending(kBob), 0u);
  scheduler_.AdvanceBy(absl::Milliseconds(1));
  wire::v1::WsMessage ended = Next(kBob);
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.end_result(), "connection_lost");
  EXPECT_EQ(ended.ended_by(), "");
  EXPECT_EQ(ended.duration_ms(), 25'000);  // connected until the window closed
  EXPECT_EQ(Stored(id).end_result, "connection_lost");
  EXPECT_THAT(pusher_.TakeSummary(), IsEmpty());
  // Too late to resume.
  Open(kAlice2, alice_);
  Send(kAlice2, R"({"type":"resume","req_id":"rs","call_ids":[")" + id + R"("]})");
  wire::v1::WsMessage resumed = Next(kAlice2);
  EXPECT_EQ(resumed.type(), "resumed");
  EXPECT_EQ(resumed.calls_size(), 0);
}

TEST_F(CallRouterTest, ResumeOfSomeoneElsesCallIsRefused) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Connected();
  router_->OnClose(kBob);
  Open(kCarol, carol_);
  Send(kCarol, R"({"type":"resume","req_id":"rs","call_ids":[")" + id + R"("]})");
  wire::v1::WsMessage resumed = Next(kCarol);
  EXPECT_EQ(resumed.type(), "resumed");
  EXPECT_EQ(resumed.calls_size(), 0);
  scheduler_.AdvanceBy(absl::Seconds(15));
  EXPECT_EQ(Next(kAlice).end_result(), "connection_lost");
  EXPECT_EQ(sender_.pending(kCarol), 0u);
}

TEST_F(CallRouterTest, ResumeMovesTheCallFromAStillOpenConnection) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Connected();
  // The server has not noticed that kBob is dead; bob comes back anyway.
  Open(kBob2, bob_);
  Send(kBob2, R"({"type":"resume","req_id":"rs","call_ids":[")" + id + R"("]})");
  EXPECT_EQ(Next(kBob2).calls_size(), 1);
  router_->OnClose(kBob);  // the old one finally goes: no effect on the call
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(router_->live_calls(), 1u);
  Send(kAlice, Req("end", id, "e"));
  EXPECT_EQ(Next(kBob2).type(), "ended");
  EXPECT_EQ(sender_.pending(kBob), 0u);
}

TEST_F(CallRouterTest, MuteAndUnmuteTellTheOtherSide) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string id = Connected();
  Send(kBob, Req("mute", id, "m1"));
  wire::v1::WsMessage ack = Next(kBob);
  EXPECT_EQ(ack.type(), "ack");
  EXPECT_EQ(ack.req_id(), "m1");
  wire::v1::WsMessage changed = Next(kAlice);
  EXPECT_EQ(changed.type(), "remote_audio_changed");
  EXPECT_EQ(changed.call_id(), id);
  EXPECT_EQ(changed.user_id(), "bob");
  EXPECT_TRUE(changed.muted());
  Send(kAlice, Req("unmute", id, "m2"));
  EXPECT_EQ(Next(kAlice).req_id(), "m2");
  changed = Next(kBob);
  EXPECT_EQ(changed.type(), "remote_audio_changed");
  EXPECT_EQ(changed.user_id(), "alice");
  EXPECT_FALSE(changed.muted());
  Send(kAlice, Req("end", id));
  sender_.TakeTypes(kAlice);
  Send(kAlice, Req("mute", id, "m3"));
  ExpectError(Next(kAlice), kCodeInvalidCallStatus, "m3");
}

TEST_F(CallRouterTest, PingUnknownAndMissingTypes) {
  Open(kAlice, alice_);
  Send(kAlice, R"({"type":"ping","req_id":"p"})");
  wire::v1::WsMessage pong = Next(kAlice);
  EXPECT_EQ(pong.type(), "pong");
  EXPECT_EQ(pong.req_id(), "p");
  Send(kAlice, R"({"type":"enter","req_id":"q"})");
  ExpectError(Next(kAlice), kCodeInvalidParams, "q");
  Send(kAlice, R"({"req_id":"r"})");
  ExpectError(Next(kAlice), kCodeMissingParams, "r");
}

TEST_F(CallRouterTest, ActiveCallsSurviveARestartWithAWindow) {
  Open(kAlice, alice_);
  Open(kBob, bob_);
  const std::string connected = Connected();
  const std::string ringing = Dial();
  scheduler_.AdvanceBy(absl::Seconds(20));
  // The server dies (no close events) and starts again.
  router_.reset();
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
  router_ = MakeRouter();
  absl::StatusOr<int> recovered = router_->Recover();
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(*recovered, 2);
  EXPECT_EQ(Stored(connected).caller_conn, 0u);

  // alice comes back within the window and takes both; bob does not.
  Open(kAlice2, alice_);
  scheduler_.AdvanceBy(absl::Seconds(5));
  Send(kAlice2, R"({"type":"resume","req_id":"rs","call_ids":[")" + connected + R"(",")" + ringing +
                    R"("]})");
  EXPECT_EQ(Next(kAlice2).calls_size(), 2);
  // The ringing call still times out 60 s after it was created.
  scheduler_.AdvanceBy(absl::Seconds(10));
  wire::v1::WsMessage first = Next(kAlice2);
  EXPECT_EQ(first.call_id(), connected);
  EXPECT_EQ(first.end_result(), "connection_lost");  // bob's window (15 s) passed
  scheduler_.AdvanceBy(absl::Seconds(25));
  wire::v1::WsMessage second = Next(kAlice2);
  EXPECT_EQ(second.call_id(), ringing);
  EXPECT_EQ(second.end_result(), "no_answer");
  EXPECT_EQ(Stored(ringing).ended_at_ms - Stored(ringing).created_at_ms, 60'000);
}

TEST_F(CallRouterTest, RingingCallOfARestartIsCanceledWhenTheCallerDoesNotComeBack) {
  Open(kAlice, alice_);
  const std::string id = Dial();
  router_.reset();
  router_ = MakeRouter();
  ASSERT_TRUE(router_->Recover().ok());
  scheduler_.AdvanceBy(absl::Seconds(15));
  EXPECT_EQ(router_->live_calls(), 0u);
  EXPECT_EQ(Stored(id).end_result, "canceled");
  EXPECT_THAT(pusher_.TakeSummary(),
              ElementsAre("call.canceled voip canceled", "call.missed remote canceled"));
}

TEST_F(CallRouterTest, CalleeMayAcceptARecoveredRingingCall) {
  Open(kAlice, alice_);
  const std::string id = Dial();
  router_.reset();
  router_ = MakeRouter();
  ASSERT_TRUE(router_->Recover().ok());
  Open(kBob, bob_);
  Open(kAlice2, alice_);
  Send(kAlice2, R"({"type":"resume","req_id":"rs","call_ids":[")" + id + R"("]})");
  EXPECT_EQ(Next(kAlice2).calls_size(), 1);
  Send(kBob, Req("accept", id));
  EXPECT_EQ(Next(kBob).type(), "established");
  EXPECT_EQ(Next(kAlice2).type(), "established");
  scheduler_.AdvanceBy(absl::Minutes(2));
  EXPECT_EQ(Stored(id).state, "connected");
}

}  // namespace
}  // namespace callsd::server::testing
