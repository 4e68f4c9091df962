// Rooms (group calls) through the daemons (issue 5), one test per numbered
// point of the issue, with the real calls-server and the callsd processes of
// alice, bob and carol (and more users for the participant limit): events
// as the watchers print them, and the WebSocket only while a call or a room
// needs it (checked on the sockets, as ss sees them).
#include <filesystem>
#include <optional>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "callsd/v1/callsd.pb.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "wire/v1/wire.pb.h"

namespace callsd::itest {
namespace {

namespace v1 = ::callsd::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// The reconnect window of the server and the daemons: short, so that the
// test of a lost connection stays short.
constexpr int kReconnectWindowS = 4;

// Whether the participants table of `room show` has `user` (the demo users
// have a nickname: "alice (Alice)") with that AUDIO.
bool ShowsParticipant(const std::string& shown, const std::string& user, const std::string& audio) {
  return std::regex_search(shown, std::regex("\n" + user + "( \\([^)]*\\))? +" + audio + " "));
}

// A user's device (harness.h) that enters rooms.
class RoomDevice : public Device {
 public:
  RoomDevice(const std::string& dir, ServerProcess& server, const std::string& user,
             const std::string& token_file)
      : Device(dir, server, user, token_file,
               {absl::StrCat("--set=calls.reconnect_window_s = ", kReconnectWindowS),
                "--set=session.retry_initial_ms = 100\nsession.retry_max_ms = 400"}) {}

  bool HasConnections(int count) {
    return WaitFor([&] { return ServerConnections() == count; });
  }

  void Enter(const std::string& room, bool muted = false) {
    std::vector<std::string> args = {"room", "enter", room};
    if (muted) args.push_back("--muted");
    CommandResult entered = Ctl(args);
    EXPECT_EQ(entered.exit_code, 0) << user() << ": " << entered.err;
    EXPECT_THAT(entered.out, HasSubstr("entered room " + room));
  }
};

// The room events a watcher printed, parsed back into callsd.v1.Event.
std::vector<v1::Event> EventsOf(const Watcher& watcher, v1::Event::KindCase kind) {
  std::vector<v1::Event> events;
  for (const std::string& line : watcher.Lines()) {
    v1::Event event;
    if (FromJson(line, &event).ok() && event.kind_case() == kind) events.push_back(event);
  }
  return events;
}

const v1::RoomParticipantEvent* ParticipantEventOf(const v1::Event& event) {
  switch (event.kind_case()) {
    case v1::Event::kParticipantEntered:
      return &event.participant_entered();
    case v1::Event::kParticipantExited:
      return &event.participant_exited();
    case v1::Event::kRoomAudioChanged:
      return &event.room_audio_changed();
    default:
      return nullptr;
  }
}

const v1::RoomEvent* RoomEventOf(const v1::Event& event) {
  switch (event.kind_case()) {
    case v1::Event::kRoomEntered:
      return &event.room_entered();
    case v1::Event::kRoomExited:
      return &event.room_exited();
    case v1::Event::kRoomDeleted:
      return &event.room_deleted();
    case v1::Event::kRoomReconnecting:
      return &event.room_reconnecting();
    case v1::Event::kRoomReconnected:
      return &event.room_reconnected();
    case v1::Event::kLocalParticipantDisconnected:
      return &event.local_participant_disconnected();
    default:
      return nullptr;
  }
}

// Waits until `watcher` printed a participant event of `kind` about `user`
// in `room` (with that audio state when `muted` is set).
bool SawParticipant(const Watcher& watcher, v1::Event::KindCase kind, const std::string& room,
                    const std::string& user, std::optional<bool> muted = std::nullopt,
                    absl::Duration timeout = absl::Seconds(10)) {
  return WaitFor(
      [&] {
        for (const v1::Event& event : EventsOf(watcher, kind)) {
          const v1::RoomParticipantEvent* e = ParticipantEventOf(event);
          if (e != nullptr && e->room().room_id() == room &&
              e->participant().user().user_id() == user &&
              (!muted.has_value() || e->participant().muted() == *muted)) {
            return true;
          }
        }
        return false;
      },
      timeout, absl::Milliseconds(20));
}

// Waits until `watcher` printed a room event of `kind` about `room`.
bool SawRoomEvent(const Watcher& watcher, v1::Event::KindCase kind, const std::string& room,
                  absl::Duration timeout = absl::Seconds(10)) {
  return WaitFor(
      [&] {
        for (const v1::Event& event : EventsOf(watcher, kind)) {
          const v1::RoomEvent* e = RoomEventOf(event);
          if (e != nullptr && e->room().room_id() == room) return true;
        }
        return false;
      },
      timeout, absl::Milliseconds(20));
}

class RoomsTest : public ::testing::Test {
 protected:
  RoomsTest()
      : server_(dir_.path(), {absl::StrCat("--reconnect_window_s=", kReconnectWindowS)}) {}

  void SetUp() override {
    alice_ = AddDevice("alice", server_.token_file("alice"));
    bob_ = AddDevice("bob", server_.token_file("bob"));
    carol_ = AddDevice("carol", CreateUser("carol"));
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& d : devices_) {
        std::fprintf(stderr, "--- %s's callsd ---\n%s\n", d->user().c_str(),
                     d->daemon().log().c_str());
      }
      std::fprintf(stderr, "--- calls-server ---\n%s\n", ReadFile(server_.log_path()).c_str());
    }
  }

  // A new user of demo-app (admin API); returns the file of its access token.
  std::string CreateUser(const std::string& user) {
    wire::v1::CreateUserRequest request;
    request.set_user_id(user);
    request.set_nickname(user);
    request.set_issue_access_token(true);
    auto [code, body] = server_.Admin("POST", "/v1/users", ToJson(request));
    EXPECT_EQ(code, 200) << body;
    auto created = ParseJson<wire::v1::User>(body);
    EXPECT_TRUE(created.ok()) << created.status();
    const std::string path = dir_ / (user + ".token");
    WriteFile(path, created.ok() ? created->access_token() + "\n" : "");
    return path;
  }

  RoomDevice* AddDevice(const std::string& user, const std::string& token_file) {
    devices_.push_back(std::make_unique<RoomDevice>(dir_ / user, server_, user, token_file));
    return devices_.back().get();
  }

  // Creates a room as `owner` ("" type: callsctl's default); returns its id.
  std::string CreateRoom(RoomDevice& owner, const std::string& type = "") {
    std::vector<std::string> args = {"--json", "room", "create"};
    if (!type.empty()) args.insert(args.end(), {"--type", type});
    CommandResult created = owner.Ctl(args);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    const std::string room = JsonField(created.out, "room_id");
    EXPECT_FALSE(room.empty()) << created.out;
    return room;
  }

  // alice creates a room and the three enter it, each seeing the others.
  std::string RoomOfThree(Watcher& alice_watch) {
    const std::string room = CreateRoom(*alice_);
    for (RoomDevice* d : {alice_, bob_, carol_}) d->Enter(room);
    EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantEntered, room, "carol"));
    return room;
  }

  TempDir dir_;
  ServerProcess server_;
  std::vector<std::unique_ptr<RoomDevice>> devices_;
  RoomDevice* alice_ = nullptr;
  RoomDevice* bob_ = nullptr;
  RoomDevice* carol_ = nullptr;
};

// 1: small and large rooms; the 7th participant of a small room is refused.
TEST_F(RoomsTest, CreateSmallAndLargeAndTheSmallRoomHoldsSix) {
  const std::string small = CreateRoom(*alice_);
  const std::string large = CreateRoom(*alice_, "large");
  EXPECT_NE(small, large);
  EXPECT_TRUE(alice_->HasConnections(0)) << "creating a room opens no WebSocket";

  CommandResult shown = alice_->Ctl({"--json", "room", "show", small});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("\"type\": \"ROOM_TYPE_SMALL\""));
  EXPECT_THAT(shown.out, HasSubstr("\"max_participants\": 6"));
  EXPECT_THAT(shown.out, HasSubstr("\"owner_id\": \"alice\""));
  shown = alice_->Ctl({"--json", "room", "show", large});
  EXPECT_THAT(shown.out, HasSubstr("\"type\": \"ROOM_TYPE_LARGE\""));
  EXPECT_THAT(shown.out, HasSubstr("\"max_participants\": 20"));
  EXPECT_THAT(alice_->Ctl({"room", "show", large}).out, HasSubstr("large (audio only)"));

  for (const char* user : {"dave", "erin", "frank", "grace"}) AddDevice(user, CreateUser(user));
  ASSERT_EQ(devices_.size(), 7u);
  for (size_t i = 0; i < 6; ++i) devices_[i]->Enter(small);
  RoomDevice& seventh = *devices_[6];
  CommandResult refused = seventh.Ctl({"room", "enter", small});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("(Calls code 1400120)"));
  EXPECT_THAT(refused.err, HasSubstr("hint: the room is full"));
  EXPECT_THAT(seventh.Ctl({"room", "list"}).out, HasSubstr("not in any room"));
  EXPECT_TRUE(seventh.HasConnections(0)) << "a refused enter leaves no WebSocket open";
  CommandResult full = alice_->Ctl({"room", "show", small});
  EXPECT_THAT(full.out, HasSubstr("participants: 6 of 6"));
  EXPECT_THAT(full.out, Not(HasSubstr(seventh.user())));

  // The limit is the small room's: the large one takes the seventh.
  seventh.Enter(large);
  EXPECT_TRUE(seventh.HasConnections(1));
}

// 2: entering opens one WebSocket per daemon; everyone is told; room show.
TEST_F(RoomsTest, EnterOpensOneWebSocketPerDaemonAndEveryParticipantIsTold) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string room = CreateRoom(*alice_);
  for (RoomDevice* d : {alice_, bob_, carol_}) EXPECT_TRUE(d->HasConnections(0));

  alice_->Enter(room);
  EXPECT_TRUE(SawRoomEvent(alice_watch, v1::Event::kRoomEntered, room));
  EXPECT_TRUE(alice_->HasConnections(1));
  EXPECT_EQ(bob_->ServerConnections(), 0);
  EXPECT_EQ(carol_->ServerConnections(), 0);

  bob_->Enter(room);
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantEntered, room, "bob", false));
  carol_->Enter(room, /*muted=*/true);
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantEntered, room, "carol", true));
  EXPECT_TRUE(SawParticipant(bob_watch, v1::Event::kParticipantEntered, room, "carol", true));
  for (RoomDevice* d : {alice_, bob_, carol_}) {
    EXPECT_TRUE(d->HasConnections(1)) << d->user() << " holds exactly one WebSocket";
  }

  CommandResult shown = bob_->Ctl({"room", "show", room});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("participants: 3 of 6\n"));
  EXPECT_THAT(shown.out, HasSubstr("this device:  ENTERED, audio on\n"));
  EXPECT_TRUE(ShowsParticipant(shown.out, "alice", "on")) << shown.out;
  EXPECT_TRUE(ShowsParticipant(shown.out, "bob", "on"));
  EXPECT_TRUE(ShowsParticipant(shown.out, "carol", "muted"));

  EXPECT_THAT(carol_->Ctl({"room", "list"}).out, HasSubstr(room));
  EXPECT_THAT(alice_->Ctl({"status"}).out, HasSubstr("rooms:"));
  EXPECT_THAT(alice_->Ctl({"status"}).out, HasSubstr(room));
  EXPECT_THAT(alice_->Ctl({"room", "list"}).out, HasSubstr("ENTERED"));
}

// 3: mute and unmute reach the other participants.
TEST_F(RoomsTest, MuteAndUnmuteReachTheOthers) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher carol_watch(carol_->daemon(), dir_.path());
  const std::string room = RoomOfThree(alice_watch);

  CommandResult mute = bob_->Ctl({"room", "mute", room});
  ASSERT_EQ(mute.exit_code, 0) << mute.err;
  EXPECT_EQ(mute.out, "muted in room " + room + "\n");
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kRoomAudioChanged, room, "bob", true));
  EXPECT_TRUE(SawParticipant(carol_watch, v1::Event::kRoomAudioChanged, room, "bob", true));
  EXPECT_TRUE(ShowsParticipant(alice_->Ctl({"room", "show", room}).out, "bob", "muted"));

  ASSERT_EQ(bob_->Ctl({"room", "unmute", room}).exit_code, 0);
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kRoomAudioChanged, room, "bob", false));
  EXPECT_TRUE(SawParticipant(carol_watch, v1::Event::kRoomAudioChanged, room, "bob", false));
  EXPECT_TRUE(ShowsParticipant(alice_->Ctl({"room", "show", room}).out, "bob", "on"));
}

// 4: exit tells the others and closes the exiting daemon's WebSocket.
TEST_F(RoomsTest, ExitTellsTheOthersAndClosesTheWebSocket) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  Watcher carol_watch(carol_->daemon(), dir_.path());
  const std::string room = RoomOfThree(alice_watch);

  CommandResult exited = carol_->Ctl({"room", "exit", room});
  ASSERT_EQ(exited.exit_code, 0) << exited.err;
  EXPECT_EQ(exited.out, "exited room " + room + "\n");
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantExited, room, "carol"));
  EXPECT_TRUE(SawParticipant(bob_watch, v1::Event::kParticipantExited, room, "carol"));
  EXPECT_TRUE(SawRoomEvent(carol_watch, v1::Event::kRoomExited, room));
  EXPECT_TRUE(carol_->HasConnections(0)) << "no call or room left: the WebSocket closes";
  EXPECT_THAT(carol_->Ctl({"room", "list"}).out, HasSubstr("not in any room"));
  EXPECT_EQ(alice_->ServerConnections(), 1);
  EXPECT_EQ(bob_->ServerConnections(), 1);
  EXPECT_THAT(alice_->Ctl({"room", "show", room}).out, HasSubstr("participants: 2 of 6"));

  // Exiting again is refused with the Calls code and a hint.
  CommandResult again = carol_->Ctl({"room", "exit", room});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("(Calls code 1800702)"));
  EXPECT_THAT(again.err, HasSubstr("hint: "));
}

// 5: a direct call and a room share one WebSocket; ending one keeps it open.
TEST_F(RoomsTest, CallAndRoomShareOneWebSocket) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string room = CreateRoom(*alice_);
  alice_->Enter(room);
  ASSERT_TRUE(alice_->HasConnections(1));

  // alice, in the room, calls bob.
  CommandResult dial = alice_->Ctl({"--json", "dial", "bob"});
  ASSERT_EQ(dial.exit_code, 0) << dial.err;
  const std::string call = JsonField(dial.out, "call_id");
  ASSERT_TRUE(bob_watch.WaitForLine("\"ringing\"") && bob_watch.WaitForLine(call));
  ASSERT_EQ(bob_->Ctl({"accept", call}).exit_code, 0);
  ASSERT_TRUE(alice_watch.WaitForLine("\"connected\""));
  EXPECT_EQ(alice_->ServerConnections(), 1) << "the call uses the room's WebSocket";

  // bob, in the call, enters the room.
  ASSERT_TRUE(bob_->HasConnections(1));
  bob_->Enter(room);
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantEntered, room, "bob"));
  EXPECT_EQ(bob_->ServerConnections(), 1) << "the room uses the call's WebSocket";

  // The call ends; the room goes on over the same sockets.
  ASSERT_EQ(alice_->Ctl({"end", call}).exit_code, 0);
  ASSERT_TRUE(bob_watch.WaitForLine("\"ended\""));
  ASSERT_EQ(bob_->Ctl({"room", "mute", room}).exit_code, 0);
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kRoomAudioChanged, room, "bob", true));
  EXPECT_EQ(alice_->ServerConnections(), 1);
  EXPECT_EQ(bob_->ServerConnections(), 1);

  // The other way round: a call outlives the room.
  const std::string second = JsonField(bob_->Ctl({"--json", "dial", "alice"}).out, "call_id");
  ASSERT_FALSE(second.empty());
  ASSERT_TRUE(alice_watch.WaitForLine(second));
  ASSERT_EQ(alice_->Ctl({"accept", second}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(bob_->Ctl({"calls"}).out, "CONNECTED"); }));
  ASSERT_EQ(bob_->Ctl({"room", "exit", room}).exit_code, 0);
  ASSERT_EQ(alice_->Ctl({"room", "exit", room}).exit_code, 0);
  EXPECT_THAT(bob_->Ctl({"calls"}).out, HasSubstr("CONNECTED"));
  EXPECT_EQ(alice_->ServerConnections(), 1) << "the call still holds the WebSocket";
  EXPECT_EQ(bob_->ServerConnections(), 1);
  ASSERT_EQ(bob_->Ctl({"end", second}).exit_code, 0);
  EXPECT_TRUE(alice_->HasConnections(0));
  EXPECT_TRUE(bob_->HasConnections(0));
}

// 6: logout and an APP_ID change exit the room first.
TEST_F(RoomsTest, LogoutAndAppIdChangeExitTheRoomFirst) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  Watcher carol_watch(carol_->daemon(), dir_.path());
  const std::string room = RoomOfThree(alice_watch);

  CommandResult logout = bob_->Ctl({"logout"});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantExited, room, "bob"));
  EXPECT_TRUE(SawParticipant(carol_watch, v1::Event::kParticipantExited, room, "bob"));
  EXPECT_TRUE(SawRoomEvent(bob_watch, v1::Event::kRoomExited, room));
  EXPECT_TRUE(bob_->HasConnections(0));

  CommandResult init = carol_->Ctl({"init", "other-app"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantExited, room, "carol"));
  EXPECT_TRUE(SawRoomEvent(carol_watch, v1::Event::kRoomExited, room));
  EXPECT_TRUE(carol_->HasConnections(0));

  CommandResult shown = alice_->Ctl({"room", "show", room});
  EXPECT_THAT(shown.out, HasSubstr("participants: 1 of 6"));
  EXPECT_THAT(shown.out, Not(HasSubstr("carol")));
}

// 7: the server goes away: reconnect; past the window, the room is left.
TEST_F(RoomsTest, ConnectionLossReconnectsOrLeavesTheRoomAfterTheWindow) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string room = CreateRoom(*alice_);
  alice_->Enter(room);
  bob_->Enter(room);
  ASSERT_TRUE(SawParticipant(alice_watch, v1::Event::kParticipantEntered, room, "bob"));

  server_.Stop();
  ASSERT_TRUE(server_.Start());
  EXPECT_TRUE(SawRoomEvent(bob_watch, v1::Event::kRoomReconnecting, room));
  EXPECT_TRUE(SawRoomEvent(bob_watch, v1::Event::kRoomReconnected, room, absl::Seconds(15)));
  EXPECT_TRUE(SawRoomEvent(alice_watch, v1::Event::kRoomReconnected, room, absl::Seconds(15)));
  EXPECT_THAT(bob_->Ctl({"room", "list"}).out, HasSubstr("ENTERED"));
  EXPECT_TRUE(bob_->HasConnections(1));
  CommandResult shown = alice_->Ctl({"room", "show", room});
  EXPECT_THAT(shown.out, HasSubstr("participants: 2 of 6")) << "both are back in the room";

  server_.Stop();  // and stays away past the window
  EXPECT_TRUE(
      SawRoomEvent(bob_watch, v1::Event::kLocalParticipantDisconnected, room, absl::Seconds(20)));
  EXPECT_TRUE(
      SawRoomEvent(alice_watch, v1::Event::kLocalParticipantDisconnected, room, absl::Seconds(20)));
  CommandResult listed = bob_->Ctl({"room", "list"});
  EXPECT_THAT(listed.out, HasSubstr("not in any room")) << "never a stuck room";
  EXPECT_THAT(bob_->Ctl({"status"}).out, Not(HasSubstr("RECONNECTING")));
}

// 8: the owner deletes the room; every participant is out of it.
TEST_F(RoomsTest, OwnerDeletesTheRoomAndEveryoneIsOut) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  Watcher carol_watch(carol_->daemon(), dir_.path());
  const std::string room = RoomOfThree(alice_watch);

  CommandResult not_owner = bob_->Ctl({"room", "delete", room});
  EXPECT_EQ(not_owner.exit_code, 1);
  EXPECT_THAT(not_owner.err, HasSubstr("(Calls code 401120)"));
  EXPECT_THAT(not_owner.err, HasSubstr("hint: "));

  CommandResult deleted = alice_->Ctl({"room", "delete", room});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "deleted room " + room + "\n");
  for (const Watcher* w : {&alice_watch, &bob_watch, &carol_watch}) {
    EXPECT_TRUE(SawRoomEvent(*w, v1::Event::kRoomDeleted, room));
  }
  for (RoomDevice* d : {alice_, bob_, carol_}) {
    EXPECT_THAT(d->Ctl({"room", "list"}).out, HasSubstr("not in any room")) << d->user();
    EXPECT_TRUE(d->HasConnections(0)) << d->user();
  }

  CommandResult again = bob_->Ctl({"room", "enter", room});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("(Calls code 1400121)"));
  EXPECT_THAT(again.err, HasSubstr("hint: the room was deleted"));
  EXPECT_TRUE(bob_->HasConnections(0));
}

}  // namespace
}  // namespace callsd::itest
