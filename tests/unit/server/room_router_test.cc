// RoomRouter behind a CallRouter (as in calls-server: the CallRouter hands it
// room messages, closes and resumes) on simulated time, a real Store in a
// temporary folder, and fake connections: every flow of a room.
#include "server/calls/room_router.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/testing/simulated_scheduler.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/calls/call_router.h"
#include "tests/unit/server/call_fakes.h"
#include "tests/unit/server/temp_dir.h"

namespace callsd::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Connections.
constexpr ConnId kAlice = 1;
constexpr ConnId kBob = 2;
constexpr ConnId kCarol = 3;
constexpr ConnId kBob2 = 4;     // bob again (a reconnect, or another device)
constexpr ConnId kAlice2 = 5;   // alice's second device
constexpr ConnId kErin = 6;     // a user of another app
constexpr ConnId kCrowd = 100;  // kCrowd + i: user u<i>

class RoomRouterTest : public ::testing::Test {
 protected:
  RoomRouterTest() {
    auto store = Store::Open(dir_.File("rooms.db"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    alice_ = NewUser("app", "alice", "Alice");
    bob_ = NewUser("app", "bob", "Bob");
    carol_ = NewUser("app", "carol", "Carol");
    erin_ = NewUser("other-app", "erin", "Erin");
    rooms_ = std::make_unique<RoomRouter>(store_.get(), &scheduler_, &sender_,
                                          options_.reconnect_window);
    calls_ = std::make_unique<CallRouter>(store_.get(), &scheduler_, &sender_, &pusher_, options_);
    calls_->set_rooms(rooms_.get());
  }
  ~RoomRouterTest() override {
    calls_.reset();
    rooms_.reset();
    EXPECT_EQ(scheduler_.pending_timers(), 0u);
  }

  UserRecord NewUser(const std::string& app, const std::string& id, const std::string& nickname) {
    return NewTestUser(store_.get(), app, id, nickname, NowMs());
  }

  // alice's room with alice (kAlice) and bob (kBob) in it; what alice was
  // told so far is forgotten.
  std::string AliceAndBobInARoom() {
    const std::string id = Create(alice_);
    Open(kAlice, alice_);
    Open(kBob, bob_);
    Enter(kAlice, id);
    Enter(kBob, id);
    sender_.TakeTypes(kAlice);
    return id;
  }

  // Opens `conn` for `user` with session key `session` ("key-<user_id>" by
  // default) and takes the hello.
  void Open(ConnId conn, const UserRecord& user, const std::string& session = "") {
    OpenTestConnection(calls_.get(), &sender_, conn, user, session);
  }
  void Close(ConnId conn) {
    calls_->OnClose(conn);
    scheduler_.RunUntilIdle();
  }

  void Send(ConnId conn, const std::string& json) {
    wire::v1::WsMessage message;
    ASSERT_TRUE(FromJson(json, &message).ok()) << json;
    calls_->OnMessage(conn, message);
    scheduler_.RunUntilIdle();
  }
  wire::v1::WsMessage Next(ConnId conn) { return sender_.Next(conn); }

  // A room made by `owner` over "REST".
  std::string Create(const UserRecord& owner, const std::string& type = "small") {
    absl::StatusOr<wire::v1::RoomInfo> room = rooms_->Create(owner, type);
    EXPECT_TRUE(room.ok()) << room.status();
    return room.ok() ? room->room_id() : "";
  }

  static std::string Req(const std::string& type, const std::string& room_id,
                         const std::string& req_id = "r1") {
    return absl::StrCat(R"({"type":")", type, R"(","req_id":")", req_id, R"(","room_id":")",
                        room_id, R"("})");
  }
  static std::string EnterReq(const std::string& room_id, bool muted = false,
                              const std::string& req_id = "e1") {
    return absl::StrCat(R"({"type":"enter","req_id":")", req_id, R"(","room_id":")", room_id,
                        R"(","muted":)", muted ? "true" : "false", "}");
  }
  // `conn` enters `room_id` and gets entered; the others' messages are kept.
  void Enter(ConnId conn, const std::string& room_id, bool muted = false) {
    Send(conn, EnterReq(room_id, muted));
    wire::v1::WsMessage entered = Next(conn);
    EXPECT_EQ(entered.type(), "entered") << entered.message();
  }

  // The user IDs of a room's participants, in order of entry.
  static std::vector<std::string> Users(const wire::v1::RoomInfo& room) {
    std::vector<std::string> users;
    for (const auto& p : room.participants()) users.push_back(p.user_id());
    return users;
  }
  wire::v1::RoomInfo Get(const std::string& room_id, const UserRecord& user) {
    absl::StatusOr<wire::v1::RoomInfo> room = rooms_->Get(user, room_id);
    EXPECT_TRUE(room.ok()) << room.status();
    return room.ok() ? *room : wire::v1::RoomInfo();
  }

  static void ExpectError(const wire::v1::WsMessage& m, int code, const std::string& req_id) {
    EXPECT_EQ(m.type(), "error");
    EXPECT_EQ(m.code(), code) << m.message();
    EXPECT_EQ(m.req_id(), req_id);
    EXPECT_FALSE(m.message().empty());
  }

  int64_t NowMs() const { return absl::ToUnixMillis(scheduler_.clock().Now()); }

  // Fills `room_id` with `n` new users u0.. on connections kCrowd + i.
  void Crowd(const std::string& room_id, int n) {
    for (int i = 0; i < n; ++i) {
      const ConnId conn = kCrowd + i;
      Open(conn, NewUser("app", absl::StrCat("u", i), ""));
      Enter(conn, room_id);
    }
  }

  TempDir dir_;
  callsd::testing::SimulatedScheduler scheduler_;
  FakeSender sender_;
  FakePusher pusher_;
  std::unique_ptr<Store> store_;
  CallRouterOptions options_;  // 15 s reconnect window
  UserRecord alice_, bob_, carol_, erin_;
  std::unique_ptr<RoomRouter> rooms_;
  std::unique_ptr<CallRouter> calls_;
};

TEST_F(RoomRouterTest, CreateStoresTheRoomWithItsTypeAndOwner) {
  absl::StatusOr<wire::v1::RoomInfo> small = rooms_->Create(alice_, "");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->room_id().size(), 16u);
  EXPECT_EQ(small->type(), "small");
  EXPECT_EQ(small->max_participants(), 6);
  EXPECT_EQ(small->owner_id(), "alice");
  EXPECT_EQ(small->created_at(), NowMs());
  EXPECT_THAT(small->participants(), IsEmpty());
  absl::StatusOr<RoomRecord> stored = store_->GetRoom(small->room_id());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->app_id, "app");
  EXPECT_EQ(stored->owner_rowid, alice_.rowid);
  EXPECT_EQ(stored->type, "small");

  absl::StatusOr<wire::v1::RoomInfo> large = rooms_->Create(bob_, "large");
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_EQ(large->max_participants(), 20);
  EXPECT_NE(large->room_id(), small->room_id());

  absl::StatusOr<wire::v1::RoomInfo> bad = rooms_->Create(bob_, "huge");
  EXPECT_EQ(GetCallsCode(bad.status()), kCodeInvalidParams);
  EXPECT_EQ(GetErrorField(bad.status()), "type");
  EXPECT_THAT(bad.status().message(), HasSubstr("type"));
}

TEST_F(RoomRouterTest, EnterTellsTheOthersWithTheRoom) {
  const std::string id = Create(alice_);
  Open(kAlice, alice_);
  Open(kBob, bob_);
  Send(kAlice, EnterReq(id, false, "a"));
  wire::v1::WsMessage entered = Next(kAlice);
  EXPECT_EQ(entered.type(), "entered");
  EXPECT_EQ(entered.req_id(), "a");
  EXPECT_EQ(entered.room_id(), id);
  EXPECT_THAT(Users(entered.room()), ElementsAre("alice"));
  EXPECT_EQ(entered.room().participants(0).nickname(), "Alice");
  EXPECT_EQ(entered.room().participants(0).entered_at(), NowMs());

  scheduler_.AdvanceBy(absl::Seconds(3));
  Send(kBob, EnterReq(id, true, "b"));
  entered = Next(kBob);
  EXPECT_EQ(entered.type(), "entered");
  EXPECT_THAT(Users(entered.room()), ElementsAre("alice", "bob"));
  wire::v1::WsMessage news = Next(kAlice);
  EXPECT_EQ(news.type(), "participant_entered");
  EXPECT_EQ(news.req_id(), "");
  EXPECT_EQ(news.room_id(), id);
  EXPECT_EQ(news.user_id(), "bob");
  EXPECT_TRUE(news.muted());
  EXPECT_THAT(Users(news.room()), ElementsAre("alice", "bob"));
  EXPECT_TRUE(news.room().participants(1).muted());
  EXPECT_EQ(news.room().participants(1).entered_at(), NowMs());
  EXPECT_EQ(sender_.pending(kBob), 0u);  // not told of itself
}

TEST_F(RoomRouterTest, SmallRoomRefusesTheSeventh) {
  const std::string id = Create(alice_);
  Crowd(id, 6);
  Open(kCarol, carol_);
  Send(kCarol, EnterReq(id, false, "7th"));
  wire::v1::WsMessage refused = Next(kCarol);
  ExpectError(refused, kCodeParticipantLimitReached, "7th");
  EXPECT_EQ(refused.room_id(), id);
  EXPECT_EQ(Get(id, carol_).participants_size(), 6);
  // Once one leaves there is room again.
  Send(kCrowd, Req("exit", id));
  Enter(kCarol, id);
  EXPECT_EQ(Get(id, carol_).participants_size(), 6);
}

TEST_F(RoomRouterTest, LargeRoomRefusesTheTwentyFirst) {
  const std::string id = Create(alice_, "large");
  Crowd(id, 20);
  EXPECT_EQ(rooms_->participants(), 20u);
  Open(kCarol, carol_);
  Send(kCarol, EnterReq(id, false, "21st"));
  ExpectError(Next(kCarol), kCodeParticipantLimitReached, "21st");
  EXPECT_EQ(rooms_->participants(), 20u);
}

TEST_F(RoomRouterTest, EnterErrors) {
  const std::string id = Create(alice_);
  Open(kAlice, alice_);
  Send(kAlice, R"({"type":"enter","req_id":"1"})");
  ExpectError(Next(kAlice), kCodeMissingParams, "1");
  Send(kAlice, EnterReq("nope", false, "2"));
  ExpectError(Next(kAlice), kCodeNotFound, "2");
  // Another app's room does not exist for this one.
  Open(kErin, erin_);
  Send(kErin, EnterReq(id, false, "3"));
  ExpectError(Next(kErin), kCodeNotFound, "3");
  EXPECT_EQ(rooms_->live_rooms(), 0u);
}

TEST_F(RoomRouterTest, AlreadyInTheRoomFromThisSessionButNotFromAnother) {
  const std::string id = Create(alice_);
  Open(kAlice, alice_);
  Enter(kAlice, id);
  Send(kAlice, EnterReq(id, false, "again"));
  ExpectError(Next(kAlice), kCodeAlreadyInRoom, "again");
  // Her other device is a participant of its own.
  Open(kAlice2, alice_, "key-of-alices-phone");
  Enter(kAlice2, id);
  EXPECT_THAT(Users(Get(id, alice_)), ElementsAre("alice", "alice"));
  EXPECT_EQ(Next(kAlice).type(), "participant_entered");
}

TEST_F(RoomRouterTest, ExitTellsTheOthersAndNotInRoomAfterwards) {
  const std::string id = AliceAndBobInARoom();
  Send(kBob, Req("exit", id, "x"));
  wire::v1::WsMessage exited = Next(kBob);
  EXPECT_EQ(exited.type(), "exited");
  EXPECT_EQ(exited.req_id(), "x");
  EXPECT_EQ(exited.room_id(), id);
  wire::v1::WsMessage news = Next(kAlice);
  EXPECT_EQ(news.type(), "participant_exited");
  EXPECT_EQ(news.room_id(), id);
  EXPECT_EQ(news.user_id(), "bob");
  EXPECT_THAT(Users(news.room()), ElementsAre("alice"));

  Send(kBob, Req("exit", id, "x2"));
  ExpectError(Next(kBob), kCodeNotInRoom, "x2");
  Send(kBob, Req("mute", id, "m"));
  ExpectError(Next(kBob), kCodeNotInRoom, "m");
  // The last one out empties the room; it can be entered again.
  Send(kAlice, Req("exit", id));
  EXPECT_EQ(Next(kAlice).type(), "exited");
  EXPECT_EQ(rooms_->live_rooms(), 0u);
  Enter(kBob, id);
}

TEST_F(RoomRouterTest, MuteAndUnmuteTellTheOthers) {
  const std::string id = AliceAndBobInARoom();
  Send(kBob, Req("mute", id, "m1"));
  wire::v1::WsMessage ack = Next(kBob);
  EXPECT_EQ(ack.type(), "ack");
  EXPECT_EQ(ack.req_id(), "m1");
  EXPECT_EQ(ack.room_id(), id);
  EXPECT_TRUE(ack.muted());
  wire::v1::WsMessage changed = Next(kAlice);
  EXPECT_EQ(changed.type(), "remote_audio_changed");
  EXPECT_EQ(changed.room_id(), id);
  EXPECT_EQ(changed.user_id(), "bob");
  EXPECT_TRUE(changed.muted());
  EXPECT_FALSE(Get(id, alice_).participants(0).muted());
  EXPECT_TRUE(Get(id, alice_).participants(1).muted());

  Send(kBob, Req("unmute", id, "m2"));
  EXPECT_FALSE(Next(kBob).muted());
  changed = Next(kAlice);
  EXPECT_EQ(changed.type(), "remote_audio_changed");
  EXPECT_FALSE(changed.muted());
  EXPECT_FALSE(Get(id, alice_).participants(1).muted());
}

TEST_F(RoomRouterTest, CallMuteStillGoesToTheCallOnASharedConnection) {
  const std::string id = AliceAndBobInARoom();
  Send(kAlice, R"({"type":"dial","req_id":"d","callee_id":"bob"})");
  const std::string call_id = Next(kAlice).call_id();
  Send(kBob, R"({"type":"accept","req_id":"a","call_id":")" + call_id + "\"}");
  sender_.TakeTypes(kAlice);
  sender_.TakeTypes(kBob);
  Send(kAlice, R"({"type":"mute","req_id":"m","call_id":")" + call_id + "\"}");
  wire::v1::WsMessage ack = Next(kAlice);
  EXPECT_EQ(ack.type(), "ack");
  EXPECT_EQ(ack.call_id(), call_id);
  wire::v1::WsMessage changed = Next(kBob);
  EXPECT_EQ(changed.call_id(), call_id);
  EXPECT_EQ(changed.room_id(), "");
  EXPECT_FALSE(Get(id, bob_).participants(0).muted());  // the room's audio is apart
  // Ending the call leaves the room as it was.
  Send(kAlice, R"({"type":"end","req_id":"e","call_id":")" + call_id + "\"}");
  EXPECT_EQ(Get(id, bob_).participants_size(), 2);
}

TEST_F(RoomRouterTest, OnlyTheOwnerDeletesAndEveryoneHearsOfIt) {
  const std::string id = Create(alice_);
  Open(kAlice, alice_);
  Open(kBob, bob_);
  Open(kCarol, carol_);
  Enter(kBob, id);
  Enter(kCarol, id);
  sender_.TakeTypes(kBob);
  Send(kBob, Req("delete_room", id, "d1"));
  ExpectError(Next(kBob), kCodeNotAllowed, "d1");
  EXPECT_EQ(sender_.pending(kCarol), 0u);
  EXPECT_FALSE(store_->GetRoom(id)->deleted);

  // The owner need not be in the room.
  Send(kAlice, Req("delete_room", id, "d2"));
  wire::v1::WsMessage ack = Next(kAlice);
  EXPECT_EQ(ack.type(), "ack");
  EXPECT_EQ(ack.req_id(), "d2");
  EXPECT_EQ(ack.room_id(), id);
  for (ConnId conn : {kBob, kCarol}) {
    wire::v1::WsMessage deleted = Next(conn);
    EXPECT_EQ(deleted.type(), "room_deleted");
    EXPECT_EQ(deleted.room_id(), id);
    EXPECT_EQ(deleted.req_id(), "");
  }
  EXPECT_EQ(rooms_->live_rooms(), 0u);
  EXPECT_TRUE(store_->GetRoom(id)->deleted);

  // A deleted room refuses everything.
  Send(kBob, EnterReq(id, false, "e"));
  ExpectError(Next(kBob), kCodeRoomDeleted, "e");
  Send(kBob, Req("exit", id, "x"));
  ExpectError(Next(kBob), kCodeRoomDeleted, "x");
  Send(kAlice, Req("delete_room", id, "d3"));
  ExpectError(Next(kAlice), kCodeRoomDeleted, "d3");
  EXPECT_EQ(GetCallsCode(rooms_->Get(bob_, id).status()), kCodeRoomDeleted);
}

TEST_F(RoomRouterTest, OwnerInTheRoomGetsTheAckAndRoomDeleted) {
  const std::string id = Create(alice_);
  Open(kAlice, alice_);
  Enter(kAlice, id);
  Send(kAlice, Req("delete_room", id, "d"));
  EXPECT_THAT(sender_.TakeTypes(kAlice), ElementsAre("ack", "room_deleted"));
  Send(kAlice, Req("delete_room", "nope", "d2"));
  ExpectError(Next(kAlice), kCodeNotFound, "d2");
}

TEST_F(RoomRouterTest, ResumeWithinTheWindowKeepsTheParticipant) {
  const std::string id = Create(alice_);
  const std::string other = Create(alice_);
  Open(kAlice, alice_);
  Open(kBob, bob_);
  Enter(kAlice, id);
  Enter(kBob, id, true);
  sender_.TakeTypes(kAlice);
  Close(kBob);
  scheduler_.AdvanceBy(absl::Seconds(14));
  EXPECT_EQ(sender_.pending(kAlice), 0u);  // the others are not told
  EXPECT_THAT(Users(Get(id, alice_)), ElementsAre("alice", "bob"));

  // The same session comes back on a new connection.
  Open(kBob2, bob_);
  Send(kBob2, R"({"type":"resume","req_id":"rs","room_ids":[")" + id + R"(",")" + other +
                  R"(","unknown"]})");
  wire::v1::WsMessage resumed = Next(kBob2);
  EXPECT_EQ(resumed.type(), "resumed");
  EXPECT_EQ(resumed.req_id(), "rs");
  EXPECT_THAT(resumed.room_ids(), ElementsAre(id));
  EXPECT_EQ(resumed.calls_size(), 0);

  // The window no longer runs; the participant (muted still) gets the news.
  scheduler_.AdvanceBy(absl::Minutes(5));
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  EXPECT_TRUE(Get(id, alice_).participants(1).muted());
  Send(kAlice, Req("mute", id));
  EXPECT_EQ(Next(kAlice).type(), "ack");
  EXPECT_EQ(Next(kBob2).type(), "remote_audio_changed");
  Send(kBob2, Req("exit", id, "x"));
  EXPECT_EQ(Next(kBob2).type(), "exited");
  EXPECT_EQ(Next(kAlice).type(), "participant_exited");
}

TEST_F(RoomRouterTest, PastTheWindowTheParticipantIsRemoved) {
  const std::string id = AliceAndBobInARoom();
  Close(kBob);
  scheduler_.AdvanceBy(absl::Seconds(15) - absl::Milliseconds(1));
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  scheduler_.AdvanceBy(absl::Milliseconds(1));
  wire::v1::WsMessage news = Next(kAlice);
  EXPECT_EQ(news.type(), "participant_exited");
  EXPECT_EQ(news.user_id(), "bob");
  EXPECT_THAT(Users(news.room()), ElementsAre("alice"));
  EXPECT_THAT(Users(Get(id, alice_)), ElementsAre("alice"));

  // Too late to resume.
  Open(kBob2, bob_);
  Send(kBob2, R"({"type":"resume","req_id":"rs","room_ids":[")" + id + R"("]})");
  EXPECT_THAT(Next(kBob2).room_ids(), IsEmpty());
  // When the last participant goes that way the room is empty.
  Close(kAlice);
  scheduler_.AdvanceBy(absl::Seconds(15));
  EXPECT_EQ(rooms_->live_rooms(), 0u);
}

TEST_F(RoomRouterTest, ResumeFromAnotherSessionDoesNotTakeTheParticipant) {
  const std::string id = AliceAndBobInARoom();
  Close(kBob);
  Open(kBob2, bob_, "another-key-of-bob");
  Send(kBob2, R"({"type":"resume","req_id":"rs","room_ids":[")" + id + R"("]})");
  EXPECT_THAT(Next(kBob2).room_ids(), IsEmpty());
  Open(kCarol, carol_);
  Send(kCarol, R"({"type":"resume","req_id":"rs","room_ids":[")" + id + R"("]})");
  EXPECT_THAT(Next(kCarol).room_ids(), IsEmpty());
  scheduler_.AdvanceBy(absl::Seconds(15));
  EXPECT_EQ(Next(kAlice).type(), "participant_exited");
}

TEST_F(RoomRouterTest, ResumeMovesTheParticipantFromAStillOpenConnection) {
  const std::string id = AliceAndBobInARoom();
  // The server has not noticed that kBob is dead; bob comes back anyway.
  Open(kBob2, bob_);
  Send(kBob2, R"({"type":"resume","req_id":"rs","room_ids":[")" + id + R"("]})");
  EXPECT_THAT(Next(kBob2).room_ids(), ElementsAre(id));
  Close(kBob);  // the old one finally goes: no effect on the participant
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  Send(kAlice, Req("mute", id));
  EXPECT_EQ(Next(kBob2).type(), "remote_audio_changed");
  EXPECT_EQ(sender_.pending(kBob), 0u);
}

TEST_F(RoomRouterTest, EnteringAgainWithinTheWindowTakesTheParticipantBack) {
  const std::string id = AliceAndBobInARoom();
  Close(kBob);
  Open(kBob2, bob_);
  Send(kBob2, EnterReq(id, true, "again"));
  wire::v1::WsMessage entered = Next(kBob2);
  EXPECT_EQ(entered.type(), "entered");
  EXPECT_THAT(Users(entered.room()), ElementsAre("alice", "bob"));
  // Only the audio is news to alice.
  wire::v1::WsMessage changed = Next(kAlice);
  EXPECT_EQ(changed.type(), "remote_audio_changed");
  EXPECT_TRUE(changed.muted());
  EXPECT_EQ(sender_.pending(kAlice), 0u);
  scheduler_.AdvanceBy(absl::Minutes(1));
  EXPECT_EQ(Get(id, alice_).participants_size(), 2);
}

TEST_F(RoomRouterTest, ResumeAnswersCallsAndRoomsTogether) {
  const std::string id = Create(alice_);
  Open(kAlice, alice_);
  Open(kBob, bob_);
  Enter(kBob, id);
  Send(kAlice, R"({"type":"dial","req_id":"d","callee_id":"bob"})");
  const std::string call_id = Next(kAlice).call_id();
  Send(kBob, R"({"type":"accept","req_id":"a","call_id":")" + call_id + "\"}");
  Close(kBob);
  Open(kBob2, bob_);
  Send(kBob2, R"({"type":"resume","req_id":"rs","call_ids":[")" + call_id + R"("],"room_ids":[")" +
                  id + R"("]})");
  wire::v1::WsMessage resumed = Next(kBob2);
  EXPECT_EQ(resumed.type(), "resumed");
  ASSERT_EQ(resumed.calls_size(), 1);
  EXPECT_EQ(resumed.calls(0).call_id(), call_id);
  EXPECT_THAT(resumed.room_ids(), ElementsAre(id));
  Send(kAlice, R"({"type":"end","req_id":"e","call_id":")" + call_id + "\"}");
}

TEST_F(RoomRouterTest, MuteWithoutRoomOrCallIsTheCallRoutersError) {
  Open(kAlice, alice_);
  Send(kAlice, R"({"type":"mute","req_id":"m"})");
  wire::v1::WsMessage error = Next(kAlice);
  ExpectError(error, kCodeMissingParams, "m");
  EXPECT_THAT(error.message(), HasSubstr("call_id"));
}

}  // namespace
}  // namespace callsd::server::testing
