// Rooms (group calls) with the real Session, CallRegistry and RoomRegistry,
// a fake backend and channel (the test plays the server), and simulated
// time: the one WebSocket shared with the calls (opened by enter, closed
// when neither a call nor a room needs it), participant and audio events,
// the server's room codes kept in the status, reconnection within and past
// the window, and rooms exited before a logout or an APP_ID change.
#include "daemon/calls/room_registry.h"

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/testing/simulated_scheduler.h"
#include "daemon/calls/call_registry.h"
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Answer;
using testing::FakeBackend;
using testing::FakeCallChannel;
using testing::FakeStateStore;
using testing::RecordingEventSink;

wire::v1::RoomParticipant Participant(const std::string& user, bool muted = false) {
  wire::v1::RoomParticipant p;
  p.set_user_id(user);
  p.set_nickname("Nick " + user);
  p.set_muted(muted);
  p.set_entered_at(1'800'000'000'000);
  return p;
}

wire::v1::RoomInfo Info(const std::string& room_id,
                        std::vector<wire::v1::RoomParticipant> participants) {
  wire::v1::RoomInfo info;
  info.set_room_id(room_id);
  info.set_type("small");
  info.set_owner_id("alice");
  info.set_max_participants(6);
  for (auto& p : participants) *info.add_participants() = std::move(p);
  return info;
}

wire::v1::WsMessage Msg(const std::string& type, const std::string& room_id,
                        const std::string& req_id = "") {
  wire::v1::WsMessage m;
  m.set_type(type);
  m.set_room_id(room_id);
  m.set_req_id(req_id);
  return m;
}

class RoomRegistryTest : public testing::RegistryFixture {
 protected:
  RoomRegistry* rooms() { return calls_->rooms(); }

  // The server accepts the connection if it is not open yet.
  void Connect() {
    if (channel_.active() && !channel_.open()) channel_.ServerAcceptsConnection();
    scheduler_.RunUntilIdle();
  }

  // The last request of `type`, answered by the server with `answer`.
  void Reply(const std::string& type, wire::v1::WsMessage answer) {
    Connect();
    const wire::v1::WsMessage* request = channel_.Last(type);
    ASSERT_NE(request, nullptr) << "no " << type << " was sent";
    answer.set_req_id(request->req_id());
    channel_.ServerSends(answer);
    scheduler_.RunUntilIdle();
  }
  void ReplyError(const std::string& type, int code) {
    wire::v1::WsMessage error = Msg("error", "");
    error.set_code(code);
    error.set_message(absl::StrCat("server says ", code));
    Reply(type, error);
  }

  // Enters `room_id` all the way, bob alone in it unless `others`.
  void EnterRoom(const std::string& room_id,
                 std::vector<wire::v1::RoomParticipant> others = {}) {
    Answer<RoomRecord> entered;
    rooms()->Enter(room_id, false, entered.Callback());
    scheduler_.RunUntilIdle();
    wire::v1::WsMessage answer = Msg("entered", room_id);
    others.push_back(Participant("bob"));
    *answer.mutable_room() = Info(room_id, others);
    Reply("enter", answer);
    ASSERT_TRUE(entered.ready() && entered.get().ok()) << entered.get().status();
    ASSERT_EQ(entered.get()->state, RoomState::kEntered);
  }

  absl::StatusOr<RoomRecord> Exit(const std::string& room_id) {
    Answer<RoomRecord> exited;
    rooms()->Exit(room_id, exited.Callback());
    scheduler_.RunUntilIdle();
    if (!exited.ready()) Reply("exit", Msg("exited", room_id));
    EXPECT_TRUE(exited.ready());
    return exited.ready() ? exited.get() : absl::InternalError("test: no answer");
  }

  // Dials alice until the server created call c1.
  void DialAlice() {
    Answer<CallRecord> dialed;
    calls_->Dial("alice", false, dialed.Callback());
    scheduler_.RunUntilIdle();
    wire::v1::WsMessage dialing = Msg("dialing", "");
    dialing.mutable_call()->set_call_id("c1");
    Reply("dial", dialing);
    ASSERT_TRUE(dialed.ready() && dialed.get().ok()) << dialed.get().status();
  }

  std::vector<RoomChanged::Kind> RoomKinds() const { return KindsOf<RoomChanged>(); }
};

// --- The WebSocket -------------------------------------------------------------------

TEST_F(RoomRegistryTest, EnterOpensTheWebSocketAndExitClosesIt) {
  LoginBob();
  Answer<RoomRecord> entered;
  rooms()->Enter("r1", true, entered.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(channel_.opens, 1);
  EXPECT_FALSE(entered.ready()) << "waits for the server";
  ASSERT_EQ(rooms()->List().size(), 1u);
  EXPECT_EQ(rooms()->List()[0].state, RoomState::kEntering);
  Connect();
  const wire::v1::WsMessage* enter = channel_.Last("enter");
  ASSERT_NE(enter, nullptr);
  EXPECT_EQ(enter->room_id(), "r1");
  EXPECT_TRUE(enter->muted());
  EXPECT_FALSE(enter->req_id().empty());

  wire::v1::WsMessage answer = Msg("entered", "r1");
  *answer.mutable_room() = Info("r1", {Participant("alice"), Participant("bob", true)});
  Reply("enter", answer);
  ASSERT_TRUE(entered.ready());
  ASSERT_TRUE(entered.get().ok()) << entered.get().status();
  EXPECT_EQ(entered.get()->state, RoomState::kEntered);
  EXPECT_TRUE(entered.get()->muted);
  EXPECT_EQ(entered.get()->owner_id, "alice");
  EXPECT_EQ(entered.get()->participants.size(), 2u);
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered));
  EXPECT_TRUE(calls_->channel_needed());

  absl::StatusOr<RoomRecord> exited = Exit("r1");
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_EQ(exited->state, RoomState::kExited);
  ASSERT_NE(channel_.Last("exit"), nullptr) << "the server is told";
  EXPECT_EQ(channel_.Last("exit")->room_id(), "r1");
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered, RoomChanged::Kind::kExited));
  EXPECT_TRUE(events_.Of<RoomChanged>()[1].reason.ok()) << "asked for: no reason";
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active()) << "no call or room left";
  EXPECT_EQ(channel_.closes, 1);
  EXPECT_EQ(scheduler_.pending_timers(), 0u) << "no request timer left behind";
}

TEST_F(RoomRegistryTest, ARoomReusesTheCallsWebSocketAndEndingTheCallKeepsItOpen) {
  LoginBob();
  DialAlice();
  ASSERT_EQ(channel_.opens, 1);
  EnterRoom("r1");
  EXPECT_EQ(channel_.opens, 1) << "the room shares the call's WebSocket";

  Answer<CallRecord> ended;
  calls_->End("c1", ended.Callback());
  scheduler_.RunUntilIdle();
  wire::v1::WsMessage end_answer = Msg("ended", "");
  end_answer.set_call_id("c1");
  end_answer.set_end_result("canceled");
  Reply("end", end_answer);
  ASSERT_TRUE(ended.ready() && ended.get().ok());
  EXPECT_TRUE(channel_.active()) << "the room still needs the WebSocket";
  EXPECT_EQ(channel_.closes, 0);

  ASSERT_TRUE(Exit("r1").ok());
  EXPECT_FALSE(channel_.active());
  EXPECT_EQ(channel_.closes, 1);
}

TEST_F(RoomRegistryTest, ExitingTheRoomKeepsTheWebSocketOpenForTheCall) {
  LoginBob();
  EnterRoom("r1");
  DialAlice();
  EXPECT_EQ(channel_.opens, 1) << "the call shares the room's WebSocket";
  ASSERT_TRUE(Exit("r1").ok());
  EXPECT_TRUE(channel_.active()) << "the call still needs the WebSocket";
  EXPECT_EQ(channel_.closes, 0);
}

TEST_F(RoomRegistryTest, ActionsNeedInitAndLogin) {
  Answer<RoomRecord> before_init;
  rooms()->Enter("r1", false, before_init.Callback());
  ASSERT_TRUE(before_init.ready());
  EXPECT_EQ(before_init.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetCallsCode(before_init.get().status()), kCodeNotInitialized);

  Init();
  Answer<RoomRecord> entered, created, got;
  rooms()->Enter("r1", false, entered.Callback());
  rooms()->Create(RoomType::kSmall, created.Callback());
  rooms()->Get("r1", got.Callback());
  std::optional<absl::Status> deleted;
  rooms()->Delete("r1", [&](absl::Status s) { deleted = s; });
  scheduler_.RunUntilIdle();
  for (const absl::Status& s : {entered.get().status(), created.get().status(),
                                got.get().status(), *deleted}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
    EXPECT_EQ(GetCallsCode(s), kCodeNotAuthenticated) << s;
  }
  EXPECT_EQ(channel_.opens, 0);
  EXPECT_TRUE(backend_.room_calls.empty());
  EXPECT_TRUE(rooms()->List().empty());
}

// --- Participants, audio, delete ---------------------------------------------------------

TEST_F(RoomRegistryTest, ParticipantEventsKeepTheListAndAudioCurrent) {
  LoginBob();
  EnterRoom("r1");
  wire::v1::WsMessage entered = Msg("participant_entered", "r1");
  entered.set_user_id("carol");
  entered.set_muted(true);
  *entered.mutable_room() = Info("r1", {Participant("bob"), Participant("carol", true)});
  channel_.ServerSends(entered);
  wire::v1::WsMessage audio = Msg("remote_audio_changed", "r1");
  audio.set_user_id("carol");
  audio.set_muted(false);
  channel_.ServerSends(audio);
  scheduler_.RunUntilIdle();

  auto events = events_.Of<RoomParticipantChanged>();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, RoomParticipantChanged::Kind::kEntered);
  EXPECT_EQ(events[0].participant.user_id, "carol");
  EXPECT_EQ(events[0].participant.nickname, "Nick carol");
  EXPECT_TRUE(events[0].participant.muted);
  EXPECT_EQ(events[0].room.participants.size(), 2u);
  EXPECT_EQ(events[1].kind, RoomParticipantChanged::Kind::kAudioChanged);
  EXPECT_FALSE(events[1].participant.muted);
  ASSERT_NE(rooms()->List()[0].Participant("carol"), nullptr);
  EXPECT_FALSE(rooms()->List()[0].Participant("carol")->muted);

  wire::v1::WsMessage exited = Msg("participant_exited", "r1");
  exited.set_user_id("carol");
  channel_.ServerSends(exited);  // without the room: the list is updated here
  scheduler_.RunUntilIdle();
  events = events_.Of<RoomParticipantChanged>();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, RoomParticipantChanged::Kind::kExited);
  EXPECT_EQ(events[2].participant.user_id, "carol");
  EXPECT_EQ(rooms()->List()[0].participants.size(), 1u);
  EXPECT_TRUE(events_.Of<RemoteAudioChanged>().empty()) << "a room's audio is not a call's";
}

TEST_F(RoomRegistryTest, EventsOfARoomThisDaemonIsNotInAreIgnored) {
  LoginBob();
  EnterRoom("r1");
  wire::v1::WsMessage entered = Msg("participant_entered", "r2");
  entered.set_user_id("carol");
  channel_.ServerSends(entered);
  scheduler_.RunUntilIdle();
  EXPECT_TRUE(events_.Of<RoomParticipantChanged>().empty());
}

TEST_F(RoomRegistryTest, MuteWaitsForTheServerAndReportsThisParticipant) {
  LoginBob();
  EnterRoom("r1");
  Answer<RoomRecord> muted;
  rooms()->SetMuted("r1", true, muted.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_NE(channel_.Last("mute"), nullptr);
  EXPECT_EQ(channel_.Last("mute")->room_id(), "r1");
  EXPECT_FALSE(muted.ready());
  wire::v1::WsMessage ack = Msg("ack", "r1");
  ack.set_muted(true);
  Reply("mute", ack);
  ASSERT_TRUE(muted.ready() && muted.get().ok()) << muted.get().status();
  EXPECT_TRUE(muted.get()->muted);
  EXPECT_TRUE(muted.get()->Participant("bob")->muted);
  auto events = events_.Of<RoomParticipantChanged>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, RoomParticipantChanged::Kind::kAudioChanged);
  EXPECT_EQ(events[0].participant.user_id, "bob");
  EXPECT_TRUE(events[0].participant.muted);

  const size_t sent = channel_.sent.size();
  Answer<RoomRecord> again;
  rooms()->SetMuted("r1", true, again.Callback());
  ASSERT_TRUE(again.ready() && again.get().ok());
  EXPECT_EQ(channel_.sent.size(), sent) << "already muted: nothing to tell";

  Answer<RoomRecord> unmuted;
  rooms()->SetMuted("r1", false, unmuted.Callback());
  scheduler_.RunUntilIdle();
  Reply("unmute", Msg("ack", "r1"));
  ASSERT_TRUE(unmuted.ready() && unmuted.get().ok());
  EXPECT_FALSE(unmuted.get()->muted);
}

TEST_F(RoomRegistryTest, OwnerDeletesTheRoomAndIsOutOfIt) {
  LoginBob();
  EnterRoom("r1");
  std::optional<absl::Status> deleted;
  rooms()->Delete("r1", [&](absl::Status s) { deleted = s; });
  scheduler_.RunUntilIdle();
  ASSERT_NE(channel_.Last("delete_room"), nullptr);
  Reply("delete_room", Msg("ack", "r1"));
  channel_.ServerSends(Msg("room_deleted", "r1"));  // to every participant, the owner too
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(deleted.has_value());
  EXPECT_TRUE(deleted->ok()) << *deleted;
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered, RoomChanged::Kind::kDeleted));
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active());
}

TEST_F(RoomRegistryTest, DeletedByItsOwnerTheParticipantsAreOut) {
  LoginBob();
  EnterRoom("r1", {Participant("alice")});
  channel_.ServerSends(Msg("room_deleted", "r1"));
  scheduler_.RunUntilIdle();
  auto events = events_.Of<RoomChanged>();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, RoomChanged::Kind::kDeleted);
  EXPECT_EQ(events[1].room.state, RoomState::kExited);
  EXPECT_EQ(GetCallsCode(events[1].reason), kCodeRoomDeleted);
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active());
}

// --- Errors ---------------------------------------------------------------------------

TEST_F(RoomRegistryTest, ServerRefusalsKeepTheirCallsCode) {
  LoginBob();
  struct Case {
    int code;
    absl::StatusCode status;
  };
  for (const Case& c : {Case{kCodeParticipantLimitReached, absl::StatusCode::kFailedPrecondition},
                        Case{kCodeRoomDeleted, absl::StatusCode::kFailedPrecondition},
                        Case{kCodeAlreadyInRoom, absl::StatusCode::kFailedPrecondition},
                        Case{kCodeNotFound, absl::StatusCode::kNotFound}}) {
    SCOPED_TRACE(c.code);
    Answer<RoomRecord> entered;
    rooms()->Enter("r1", false, entered.Callback());
    scheduler_.RunUntilIdle();
    ReplyError("enter", c.code);
    ASSERT_TRUE(entered.ready());
    EXPECT_EQ(entered.get().status().code(), c.status);
    EXPECT_EQ(GetCallsCode(entered.get().status()), c.code);
    EXPECT_THAT(entered.get().status().message(), HasSubstr(absl::StrCat(c.code)));
    EXPECT_TRUE(rooms()->List().empty());
    EXPECT_FALSE(channel_.active()) << "nothing needs the WebSocket after a refused enter";
  }
  EXPECT_TRUE(events_.Of<RoomChanged>().empty());
}

TEST_F(RoomRegistryTest, DeleteByANonOwnerIsPermissionDenied) {
  LoginBob();
  EnterRoom("r1");
  std::optional<absl::Status> deleted;
  rooms()->Delete("r1", [&](absl::Status s) { deleted = s; });
  scheduler_.RunUntilIdle();
  ReplyError("delete_room", kCodeNotAllowed);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(GetCallsCode(*deleted), kCodeNotAllowed);
  EXPECT_EQ(rooms()->List().size(), 1u) << "still in the room";
  EXPECT_TRUE(channel_.active());
}

TEST_F(RoomRegistryTest, DeleteWithoutBeingInTheRoomClosesTheWebSocketAfterwards) {
  LoginBob();
  std::optional<absl::Status> deleted;
  rooms()->Delete("r9", [&](absl::Status s) { deleted = s; });
  scheduler_.RunUntilIdle();
  EXPECT_TRUE(channel_.active()) << "opened for the request";
  Reply("delete_room", Msg("ack", "r9"));
  ASSERT_TRUE(deleted.has_value() && deleted->ok());
  EXPECT_FALSE(channel_.active());
}

TEST_F(RoomRegistryTest, LocalRefusalsNameTheRoom) {
  LoginBob();
  Answer<RoomRecord> exit_unknown, mute_unknown;
  rooms()->Exit("r1", exit_unknown.Callback());
  rooms()->SetMuted("r1", true, mute_unknown.Callback());
  for (const auto* a : {&exit_unknown, &mute_unknown}) {
    ASSERT_TRUE(a->ready());
    EXPECT_EQ(a->get().status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(GetCallsCode(a->get().status()), kCodeNotInRoom);
    EXPECT_EQ(GetErrorField(a->get().status()), "room_id");
    EXPECT_THAT(a->get().status().message(), HasSubstr("r1"));
  }
  EnterRoom("r1");
  Answer<RoomRecord> twice;
  rooms()->Enter("r1", false, twice.Callback());
  ASSERT_TRUE(twice.ready());
  EXPECT_EQ(twice.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetCallsCode(twice.get().status()), kCodeAlreadyInRoom);
  EXPECT_EQ(channel_.sent.size(), 1u) << "only the first enter went to the server";
}

TEST_F(RoomRegistryTest, MuteRefusedByTheServerKeepsItsCodeAndTheAudio) {
  LoginBob();
  EnterRoom("r1");
  Answer<RoomRecord> muted;
  rooms()->SetMuted("r1", true, muted.Callback());
  scheduler_.RunUntilIdle();
  ReplyError("mute", kCodeNotInRoom);
  ASSERT_TRUE(muted.ready());
  EXPECT_EQ(muted.get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetCallsCode(muted.get().status()), kCodeNotInRoom);
  EXPECT_FALSE(rooms()->List()[0].muted);
}

TEST_F(RoomRegistryTest, EnterWithoutAnswerTimesOutAndALateEntryIsExited) {
  LoginBob();
  Answer<RoomRecord> entered;
  rooms()->Enter("r1", false, entered.Callback());
  Connect();
  ASSERT_NE(channel_.Last("enter"), nullptr);
  const std::string req_id = channel_.Last("enter")->req_id();
  scheduler_.AdvanceBy(absl::Seconds(11));
  ASSERT_TRUE(entered.ready());
  EXPECT_EQ(entered.get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(entered.get().status().message(), HasSubstr("did not answer enter"));
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active());

  // Had the channel stayed open, a late "entered" gets an exit.
  EnterRoom("r2");
  wire::v1::WsMessage late = Msg("entered", "r1", req_id);
  channel_.ServerSends(late);
  scheduler_.RunUntilIdle();
  ASSERT_NE(channel_.Last("exit"), nullptr);
  EXPECT_EQ(channel_.Last("exit")->room_id(), "r1");
  EXPECT_EQ(rooms()->List().size(), 1u);
}

// --- REST: create, get ------------------------------------------------------------------

TEST_F(RoomRegistryTest, CreateAndGetUseRestWithoutAWebSocket) {
  LoginBob();
  Answer<RoomRecord> created;
  rooms()->Create(RoomType::kLarge, created.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_EQ(backend_.room_calls.size(), 1u);
  EXPECT_EQ(backend_.room_calls[0].what, "create_room");
  EXPECT_EQ(backend_.room_calls[0].arg, "large");
  wire::v1::RoomInfo info = Info("r1", {});
  info.set_type("large");
  info.set_owner_id("bob");
  info.set_max_participants(20);
  backend_.AnswerRoom(info);
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(created.ready() && created.get().ok()) << created.get().status();
  EXPECT_EQ(created.get()->room_id, "r1");
  EXPECT_EQ(created.get()->type, RoomType::kLarge);
  EXPECT_EQ(created.get()->max_participants, 20);
  EXPECT_EQ(created.get()->state, RoomState::kNone);
  EXPECT_TRUE(rooms()->List().empty()) << "creating is not entering";

  Answer<RoomRecord> missing;
  rooms()->Get("nope", missing.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_EQ(backend_.room_calls[0].arg, "nope");
  backend_.AnswerRoom(CallsError(absl::StatusCode::kNotFound, kCodeNotFound, "room not found"));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(missing.ready());
  EXPECT_EQ(missing.get().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetCallsCode(missing.get().status()), kCodeNotFound);
  EXPECT_EQ(channel_.opens, 0);
}

TEST_F(RoomRegistryTest, GetOfAnEnteredRoomCarriesThisDaemonsStateAndRefreshesIt) {
  LoginBob();
  EnterRoom("r1");
  Answer<RoomRecord> got;
  rooms()->Get("r1", got.Callback());
  scheduler_.RunUntilIdle();
  backend_.AnswerRoom(Info("r1", {Participant("bob"), Participant("carol", true)}));
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(got.ready() && got.get().ok());
  EXPECT_EQ(got.get()->state, RoomState::kEntered);
  EXPECT_EQ(got.get()->participants.size(), 2u);
  EXPECT_EQ(rooms()->List()[0].participants.size(), 2u);
}

// --- Connection loss ----------------------------------------------------------------------

TEST_F(RoomRegistryTest, DroppedWebSocketReconnectsAndResumesTheRoom) {
  LoginBob();
  EnterRoom("r1");
  channel_.ServerDrops();
  scheduler_.RunUntilIdle();
  EXPECT_EQ(rooms()->List()[0].state, RoomState::kReconnecting);
  scheduler_.AdvanceBy(absl::Seconds(1));
  ASSERT_EQ(channel_.opens, 2) << "reconnects with backoff";
  Connect();
  const wire::v1::WsMessage* resume = channel_.Last("resume");
  ASSERT_NE(resume, nullptr);
  EXPECT_THAT(resume->room_ids(), ElementsAre("r1"));
  EXPECT_TRUE(resume->call_ids().empty());
  wire::v1::WsMessage resumed = Msg("resumed", "", resume->req_id());
  resumed.add_room_ids("r1");
  channel_.ServerSends(resumed);
  scheduler_.RunUntilIdle();
  EXPECT_EQ(rooms()->List()[0].state, RoomState::kEntered);
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered,
                                       RoomChanged::Kind::kReconnecting,
                                       RoomChanged::Kind::kReconnected));
  scheduler_.AdvanceBy(absl::Seconds(30));
  EXPECT_EQ(rooms()->List().size(), 1u) << "the window timer was cancelled";
  EXPECT_TRUE(channel_.active());
}

TEST_F(RoomRegistryTest, ARoomTheServerNoLongerHoldsIsEnteredAgain) {
  LoginBob();
  EnterRoom("r1", {Participant("alice")});
  Answer<RoomRecord> muted;
  rooms()->SetMuted("r1", true, muted.Callback());
  scheduler_.RunUntilIdle();
  Reply("mute", Msg("ack", "r1"));
  channel_.ServerDrops();  // the server restarted: it has no participants
  scheduler_.AdvanceBy(absl::Seconds(1));
  Connect();
  const size_t enters = channel_.sent.size();
  Reply("resume", Msg("resumed", ""));
  ASSERT_GT(channel_.sent.size(), enters);
  const wire::v1::WsMessage* enter = channel_.Last("enter");
  ASSERT_NE(enter, nullptr);
  EXPECT_EQ(enter->room_id(), "r1");
  EXPECT_TRUE(enter->muted()) << "entered again as it was";
  EXPECT_EQ(rooms()->List()[0].state, RoomState::kReconnecting) << "until the server answers";

  wire::v1::WsMessage entered = Msg("entered", "r1");
  *entered.mutable_room() = Info("r1", {Participant("bob", true)});
  Reply("enter", entered);
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered,
                                       RoomChanged::Kind::kReconnecting,
                                       RoomChanged::Kind::kReconnected));
  ASSERT_EQ(rooms()->List().size(), 1u);
  EXPECT_EQ(rooms()->List()[0].state, RoomState::kEntered);
  EXPECT_EQ(rooms()->List()[0].participants.size(), 1u) << "the server's list after re-entering";
  scheduler_.AdvanceBy(absl::Seconds(30));
  EXPECT_EQ(rooms()->List().size(), 1u);
}

TEST_F(RoomRegistryTest, ARoomThatCannotBeEnteredAgainIsLeft) {
  LoginBob();
  EnterRoom("r1");
  channel_.ServerDrops();
  scheduler_.AdvanceBy(absl::Seconds(1));
  Connect();
  Reply("resume", Msg("resumed", ""));
  ReplyError("enter", kCodeParticipantLimitReached);  // filled up meanwhile
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered,
                                       RoomChanged::Kind::kReconnecting,
                                       RoomChanged::Kind::kLocalParticipantDisconnected));
  EXPECT_EQ(GetCallsCode(events_.Of<RoomChanged>()[2].reason), kCodeParticipantLimitReached);
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active());
}

// Deleted by its owner while this daemon was reconnecting (the server tells
// only connected participants): reported as a deletion, not a disconnect.
TEST_F(RoomRegistryTest, ARoomDeletedWhileReconnectingIsReportedDeleted) {
  LoginBob();
  EnterRoom("r1");
  channel_.ServerDrops();
  scheduler_.AdvanceBy(absl::Seconds(1));
  Connect();
  Reply("resume", Msg("resumed", ""));
  ReplyError("enter", kCodeRoomDeleted);
  EXPECT_THAT(RoomKinds(), ElementsAre(RoomChanged::Kind::kEntered,
                                       RoomChanged::Kind::kReconnecting,
                                       RoomChanged::Kind::kDeleted));
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active());
}

// Exited here while reconnecting, with a call keeping the WebSocket: the
// resume gives the participant back on the server, so it is exited there.
TEST_F(RoomRegistryTest, ARoomExitedWhileReconnectingIsExitedOnTheServerAfterTheResume) {
  LoginBob();
  DialAlice();
  EnterRoom("r1");
  channel_.ServerDrops();
  scheduler_.RunUntilIdle();
  auto exited = Exit("r1");
  ASSERT_TRUE(exited.ok()) << exited.status();
  scheduler_.AdvanceBy(absl::Seconds(1));
  Connect();
  const size_t before = channel_.sent.size();
  wire::v1::WsMessage resumed = Msg("resumed", "");
  resumed.add_room_ids("r1");
  Reply("resume", resumed);
  ASSERT_GT(channel_.sent.size(), before);
  const wire::v1::WsMessage* exit = channel_.Last("exit");
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->room_id(), "r1");
  EXPECT_TRUE(rooms()->List().empty());
}

// An enter that timed out here but went through on the server: the retry
// is refused as already in the room, and the daemon exits it there so that
// the two sides agree (and the next enter works).
TEST_F(RoomRegistryTest, AlreadyInTheRoomOnTheServerIsExitedThere) {
  LoginBob();
  DialAlice();  // keeps the WebSocket open
  const size_t before = channel_.sent.size();
  Answer<RoomRecord> entered;
  rooms()->Enter("r1", false, entered.Callback());
  scheduler_.RunUntilIdle();
  ReplyError("enter", kCodeAlreadyInRoom);
  ASSERT_TRUE(entered.ready());
  EXPECT_EQ(GetCallsCode(entered.get().status()), kCodeAlreadyInRoom);
  const wire::v1::WsMessage* exit = channel_.Last("exit");
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->room_id(), "r1");
  EXPECT_GT(channel_.sent.size(), before + 1);
}

// State.rooms follows an enter from its start to its refusal.
TEST_F(RoomRegistryTest, ARefusedEnterLeavesNoRoomInTheState) {
  LoginBob();
  const int before = events_.state_changes;
  Answer<RoomRecord> entered;
  rooms()->Enter("r1", false, entered.Callback());
  scheduler_.RunUntilIdle();
  EXPECT_GT(events_.state_changes, before) << "the ENTERING room is shown";
  const int entering = events_.state_changes;
  ReplyError("enter", kCodeParticipantLimitReached);
  EXPECT_GT(events_.state_changes, entering) << "and its end is too";
  EXPECT_TRUE(rooms()->List().empty());
}

TEST_F(RoomRegistryTest, PastTheReconnectWindowTheRoomIsLeft) {
  LoginBob();
  EnterRoom("r1");
  channel_.ServerDrops();
  for (int i = 0; i < 20 && !rooms()->List().empty(); ++i) {
    scheduler_.AdvanceTo(scheduler_.NextTimerAt());
    if (channel_.active() && !channel_.open()) channel_.ServerDrops();  // server still away
  }
  ASSERT_TRUE(rooms()->List().empty());
  auto events = events_.Of<RoomChanged>();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kind, RoomChanged::Kind::kLocalParticipantDisconnected);
  EXPECT_EQ(events[2].reason.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(events[2].reason.message(), HasSubstr("could not reconnect"));
  EXPECT_FALSE(channel_.active());
  EXPECT_EQ(scheduler_.pending_timers(), 0u);
}

TEST_F(RoomRegistryTest, EnterWhileReconnectingFailsFast) {
  LoginBob();
  EnterRoom("r1");
  channel_.ServerDrops();
  scheduler_.RunUntilIdle();
  Answer<RoomRecord> entered;
  rooms()->Enter("r2", false, entered.Callback());
  ASSERT_TRUE(entered.ready());
  EXPECT_EQ(entered.get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(GetErrorHint(entered.get().status()).empty());
  EXPECT_EQ(rooms()->List().size(), 1u);
}

// --- The end of the session ----------------------------------------------------------------

TEST_F(RoomRegistryTest, LogoutExitsEveryRoomBeforeClosingTheWebSocket) {
  LoginBob();
  EnterRoom("r1");
  EnterRoom("r2");
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  std::vector<std::string> exited;
  for (const auto& m : channel_.sent) {
    if (m.type() == "exit") exited.push_back(m.room_id());
  }
  EXPECT_THAT(exited, ElementsAre("r1", "r2")) << "sent while the WebSocket was open";
  EXPECT_EQ(channel_.dropped, 0);
  EXPECT_FALSE(channel_.active());
  EXPECT_TRUE(rooms()->List().empty());
  auto events = events_.Of<RoomChanged>();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].kind, RoomChanged::Kind::kExited);
  EXPECT_THAT(events[2].reason.message(), HasSubstr("logged out"));
}

TEST_F(RoomRegistryTest, AnAppIdChangeExitsEveryRoomFirst) {
  LoginBob();
  EnterRoom("r1");
  Answer<Session::InitResult> init;
  session_->Init("other-app", init.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(init.ready() && init.get().ok());
  ASSERT_NE(channel_.Last("exit"), nullptr);
  EXPECT_EQ(channel_.Last("exit")->room_id(), "r1");
  EXPECT_EQ(channel_.dropped, 0);
  EXPECT_FALSE(channel_.active());
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_THAT(events_.Of<RoomChanged>().back().reason.message(), HasSubstr("APP_ID"));
}

TEST_F(RoomRegistryTest, LogoutAnswersAPendingEnter) {
  LoginBob();
  Answer<RoomRecord> entered;
  rooms()->Enter("r1", false, entered.Callback());
  Connect();
  Answer<Session::DeauthResult> out;
  session_->Deauthenticate(false, out.Callback());
  scheduler_.RunUntilIdle();
  ASSERT_TRUE(entered.ready());
  EXPECT_EQ(entered.get().status().code(), absl::StatusCode::kAborted);
  ASSERT_NE(channel_.Last("exit"), nullptr) << "the server may have let it in already";
  EXPECT_TRUE(rooms()->List().empty());
  EXPECT_FALSE(channel_.active());
}

TEST_F(RoomRegistryTest, ShutdownExitsTheRoomsAndRefusesNewWork) {
  LoginBob();
  EnterRoom("r1");
  calls_->Shutdown();
  scheduler_.RunUntilIdle();
  ASSERT_NE(channel_.Last("exit"), nullptr);
  EXPECT_EQ(channel_.dropped, 0);
  Answer<RoomRecord> entered;
  rooms()->Enter("r2", false, entered.Callback());
  ASSERT_TRUE(entered.ready());
  EXPECT_EQ(entered.get().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace callsd::daemon
