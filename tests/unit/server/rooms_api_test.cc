// The REST side of rooms: POST /v1/rooms and GET /v1/rooms/{room_id}, with a
// RoomRouter (behind a CallRouter) on simulated time behind the Api.
#include <memory>
#include <string>

#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/testing/simulated_scheduler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/calls/call_router.h"
#include "server/calls/room_router.h"
#include "tests/unit/server/api_test_base.h"
#include "tests/unit/server/call_fakes.h"

namespace callsd::server::testing {
namespace {

using ::testing::IsEmpty;

constexpr ConnId kAlice = 1;
constexpr ConnId kBob = 2;

class RoomsApiTest : public ApiTest {
 protected:
  RoomsApiTest() {
    rooms_ = std::make_unique<RoomRouter>(store_.get(), &scheduler_, &sender_, absl::Seconds(15));
    calls_ = std::make_unique<CallRouter>(store_.get(), &scheduler_, &sender_, &pusher_);
    calls_->set_rooms(rooms_.get());
    api_ = std::make_unique<Api>(store_.get(), &apps_, &clock_, ApiOptions(), calls_.get(),
                                 rooms_.get());
    alice_key_ = Login("alice", CreateUser("alice"));
    bob_key_ = Login("bob", CreateUser("bob"));
  }

  void Open(ConnId conn, const std::string& user_id, const std::string& key) {
    UserRecord user = *store_->GetUser(kApp, user_id);
    ConnectionInfo who;
    who.app_id = kApp;
    who.user_rowid = user.rowid;
    who.user_id = user.user_id;
    who.nickname = user.nickname;
    who.session_hash = Sha256Hex(key);
    calls_->OnOpen(conn, who);
    sender_.TakeTypes(conn);
  }
  // Sends `json` on `conn`; returns the type of the answer.
  std::string Ws(ConnId conn, const std::string& json) {
    wire::v1::WsMessage message;
    EXPECT_TRUE(FromJson(json, &message).ok());
    calls_->OnMessage(conn, message);
    scheduler_.RunUntilIdle();
    return sender_.Next(conn).type();
  }
  // A new room of alice's; its ID.
  std::string CreateRoom(const std::string& body) {
    HttpResponse r = Session(alice_key_, "POST", "/v1/rooms", body);
    EXPECT_EQ(r.http_status, 200) << r.body;
    return Parse<wire::v1::RoomInfo>(r).room_id();
  }

  callsd::testing::SimulatedScheduler scheduler_;
  FakeSender sender_;
  FakePusher pusher_;
  std::unique_ptr<RoomRouter> rooms_;
  std::unique_ptr<CallRouter> calls_;
  std::string alice_key_;
  std::string bob_key_;
};

TEST_F(RoomsApiTest, CreateSmallAndLargeRooms) {
  HttpResponse r = Session(alice_key_, "POST", "/v1/rooms", R"({"type":"small"})");
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto room = Parse<wire::v1::RoomInfo>(r);
  EXPECT_EQ(room.room_id().size(), 16u);
  EXPECT_EQ(room.type(), "small");
  EXPECT_EQ(room.owner_id(), "alice");
  EXPECT_EQ(room.max_participants(), 6);
  EXPECT_EQ(room.created_at(), absl::ToUnixMillis(scheduler_.clock().Now()));
  EXPECT_THAT(room.participants(), IsEmpty());

  r = Session(bob_key_, "POST", "/v1/rooms", R"({"type":"large"})");
  ASSERT_EQ(r.http_status, 200) << r.body;
  room = Parse<wire::v1::RoomInfo>(r);
  EXPECT_EQ(room.type(), "large");
  EXPECT_EQ(room.owner_id(), "bob");
  EXPECT_EQ(room.max_participants(), 20);

  // No type (or no body) is a small room.
  r = Session(bob_key_, "POST", "/v1/rooms");
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Parse<wire::v1::RoomInfo>(r).type(), "small");
}

TEST_F(RoomsApiTest, BadTypeOrBodyIsRefusedNamingTheField) {
  HttpResponse r = Session(alice_key_, "POST", "/v1/rooms", R"({"type":"medium"})");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeInvalidParams, "type: must be \"small\" or \"large\""));
  r = Session(alice_key_, "POST", "/v1/rooms", R"({"type":)");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.body, ::testing::HasSubstr("\"code\":400100"));
}

TEST_F(RoomsApiTest, SessionIsRequired) {
  HttpResponse r = Client("POST", "/v1/rooms", R"({"type":"small"})");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeMissingParams, "Session-Key header is missing"));
  r = Session("nope", "GET", "/v1/rooms/abc");
  EXPECT_EQ(r.body, Error(kCodeInvalidAccessToken, "invalid session key"));
}

TEST_F(RoomsApiTest, GetShowsTheParticipantsAndTheirAudio) {
  const std::string id = CreateRoom(R"({"type":"small"})");
  Open(kAlice, "alice", alice_key_);
  Open(kBob, "bob", bob_key_);
  EXPECT_EQ(Ws(kAlice, R"({"type":"enter","room_id":")" + id + "\"}"), "entered");
  EXPECT_EQ(Ws(kBob, R"({"type":"enter","room_id":")" + id + R"(","muted":true})"), "entered");

  HttpResponse r = Session(bob_key_, "GET", "/v1/rooms/" + id);
  ASSERT_EQ(r.http_status, 200) << r.body;
  auto room = Parse<wire::v1::RoomInfo>(r);
  EXPECT_EQ(room.room_id(), id);
  EXPECT_EQ(room.owner_id(), "alice");
  ASSERT_EQ(room.participants_size(), 2);
  EXPECT_EQ(room.participants(0).user_id(), "alice");
  EXPECT_FALSE(room.participants(0).muted());
  EXPECT_EQ(room.participants(1).user_id(), "bob");
  EXPECT_TRUE(room.participants(1).muted());

  sender_.TakeTypes(kAlice);  // participant_entered
  EXPECT_EQ(Ws(kBob, R"({"type":"unmute","room_id":")" + id + "\"}"), "ack");
  EXPECT_EQ(sender_.Next(kAlice).type(), "remote_audio_changed");
  EXPECT_EQ(Ws(kAlice, R"({"type":"mute","room_id":")" + id + "\"}"), "ack");
  room = Parse<wire::v1::RoomInfo>(Session(alice_key_, "GET", "/v1/rooms/" + id));
  ASSERT_EQ(room.participants_size(), 2);
  EXPECT_TRUE(room.participants(0).muted());
  EXPECT_FALSE(room.participants(1).muted());
}

TEST_F(RoomsApiTest, UnknownOtherAppsAndDeletedRooms) {
  HttpResponse r = Session(alice_key_, "GET", "/v1/rooms/nope");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeNotFound, "room nope does not exist"));

  const std::string id = CreateRoom("");
  // A user of another app: the room does not exist there.
  HttpResponse created =
      Send("POST", "/v1/users", R"({"user_id":"erin","issue_access_token":true})",
           {{"api-token", kOtherAppToken}});
  ASSERT_EQ(created.http_status, 200) << created.body;
  HttpResponse login =
      Send("POST", "/v1/auth", AuthBody("erin", Parse<wire::v1::User>(created).access_token()),
           {{"app-id", kOtherApp}});
  ASSERT_EQ(login.http_status, 200) << login.body;
  const std::string erin_key = Parse<wire::v1::AuthResponse>(login).session_key();
  r = Send("GET", "/v1/rooms/" + id, "", {{"app-id", kOtherApp}, {"session-key", erin_key}});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeNotFound, "room " + id + " does not exist"));

  Open(kAlice, "alice", alice_key_);
  EXPECT_EQ(Ws(kAlice, R"({"type":"delete_room","room_id":")" + id + "\"}"), "ack");
  r = Session(bob_key_, "GET", "/v1/rooms/" + id);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body, Error(kCodeRoomDeleted, "room " + id + " has been deleted"));
}

}  // namespace
}  // namespace callsd::server::testing
