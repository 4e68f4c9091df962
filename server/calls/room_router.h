// RoomRouter: the rooms (group calls) of calls-server (the rooms comment in
// proto/wire/v1/wire.proto, above RoomParticipant). A room has a type
// ("small": at most 6 participants; "large": audio only, at most 20), an
// owner and a creation time, which the Store keeps; its participants live
// here, in memory, with the WebSocket connections that hold them.
//
// A participant is one session (one device: one session key) of a user; a
// user may be in a room from several devices. Its connection is the one that
// entered (or resumed) it.
//
// Like CallRouter it knows nothing of sockets; CallRouter hands it the room
// messages (Handles()), each closed connection and each resume, and the Api
// calls Create() and Get() for REST.
//
// Messages ("->" answers the requester with its req_id; the others get
// theirs without one; "the others" are the room's other participants that
// have a connection):
//
//   enter {room_id, muted}
//        -> entered {room_id, room}; the others get participant_entered
//        {room_id, user_id, muted, room}. A participant of this session that
//        lost its connection and is still in its reconnect window is taken
//        back by this connection instead (entered, and remote_audio_changed
//        to the others if `muted` changed).
//   exit {room_id}     -> exited {room_id}; the others get participant_exited
//                         {room_id, user_id, room}.
//   mute / unmute {room_id}
//        -> ack {room_id, muted}; the others get remote_audio_changed
//        {room_id, user_id, muted}.
//   delete_room {room_id}  (the owner, in the room or not)
//        -> ack {room_id}; every participant with a connection (the owner's
//        included) gets room_deleted {room_id}, and the room is empty.
//
// Errors, error {req_id, room_id, code, message}: 400111 no room_id; 400200
// no such room (or another app's); 1400121 the room was deleted; 1400120 the
// room is full; 1800700 this session is already in the room (with a
// connection); 1800702 this session is not in the room (exit, mute); 401120
// delete_room by someone else than the owner; 500901 the store failed.
//
// Connection loss: the connection's participants stay for the reconnect
// window (the same as calls', CallRouterOptions::reconnect_window). A resume
// from the same session within it gives them to the new connection (and
// takes them from an old one still open); past it they are removed and the
// others get participant_exited. Nothing is said to the others before that.
// Participants do not survive a restart of the server (rooms do).
//
// Threading: the scheduler's sequence, as CallRouter's. The Store is called
// inline.
#ifndef CALLSD_SERVER_CALLS_ROOM_ROUTER_H_
#define CALLSD_SERVER_CALLS_ROOM_ROUTER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/calls_error.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/scheduler.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/calls/connection.h"
#include "server/store/store.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server {

class RoomRouter {
 public:
  // Every pointer must outlive the router. `reconnect_window`: how long a
  // participant whose connection closed is kept.
  RoomRouter(Store* store, Scheduler* scheduler, ConnectionSender* sender,
             absl::Duration reconnect_window);
  // Cancels the router's timers.
  ~RoomRouter();

  RoomRouter(const RoomRouter&) = delete;
  RoomRouter& operator=(const RoomRouter&) = delete;

  // Whether `message` is a room request: enter, exit, delete_room, or mute /
  // unmute with a room_id and no call_id.
  static bool Handles(const wire::v1::WsMessage& message);

  // A room request from `conn`, authenticated as `who`.
  void OnMessage(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& message);
  // `conn` is gone: its participants wait for the reconnect window.
  void OnClose(ConnId conn);
  // resume from `conn`: gives it this session's participants in `room_ids`
  // (unknown rooms, other apps' and rooms without this session are left
  // out). Returns the room_ids it now holds, in the order asked.
  std::vector<std::string> Resume(ConnId conn, const ConnectionInfo& who,
                                  const google::protobuf::RepeatedPtrField<std::string>& room_ids);

  // POST /v1/rooms by `owner`: a new empty room of `type` ("small" or
  // "large"; "" is small). 400100 naming the field for any other type;
  // store failures as they come.
  absl::StatusOr<wire::v1::RoomInfo> Create(const UserRecord& owner, absl::string_view type);
  // GET /v1/rooms/{room_id} by `user`: the room with its participants.
  // 400111 no room_id, 400200 no such room of the user's app, 1400121
  // deleted.
  absl::StatusOr<wire::v1::RoomInfo> Get(const UserRecord& user, absl::string_view room_id);

  // For tests and logs: rooms with participants, and participants in all.
  size_t live_rooms() const { return rooms_.size(); }
  size_t participants() const;

 private:
  struct Participant {
    std::string session_hash;  // the participant's identity
    std::string user_id;
    std::string nickname;
    bool muted = false;
    int64_t entered_at_ms = 0;
    ConnId conn = 0;  // 0: lost, in its reconnect window
    TimerId window = 0;
  };
  // A room with at least one participant.
  struct Live {
    RoomRecord record;
    std::vector<Participant> participants;  // in order of entry
  };

  // Requests.
  void Enter(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m);
  void Exit(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m);
  void Mute(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m, bool muted);
  void Delete(ConnId conn, const ConnectionInfo& who, const wire::v1::WsMessage& m);

  // The room `room_id` of `app_id`, from memory or the store: 400111 no
  // room_id, 400200 unknown or another app's, 1400121 deleted.
  absl::StatusOr<RoomRecord> FindRoom(absl::string_view app_id, absl::string_view room_id);
  // The live room `room_id` and this session's participant in it; 1800702
  // when there is none (FindRoom's errors first).
  struct Seat {
    Live* live;
    Participant* participant;
  };
  absl::StatusOr<Seat> FindSeat(const ConnectionInfo& who, absl::string_view room_id);
  Live* FindLive(const std::string& room_id);
  static Participant* FindParticipant(Live& live, const std::string& session_hash);

  // Makes `conn` the participant's connection (ends its window).
  void Bind(const std::string& room_id, Participant& p, ConnId conn);
  void OnWindowOver(const std::string& room_id, const std::string& session_hash);
  // Removes the participant of `session_hash` from `live` and tells the
  // others; forgets the room when it is empty (`live` may be gone on return).
  void Leave(Live& live, const std::string& session_hash);
  // Sends `message` to every participant of `live` with a connection, but
  // the one of `except_session`.
  void Broadcast(const Live& live, const wire::v1::WsMessage& message,
                 const std::string& except_session);
  // A message of `type` about `live`'s participant `p` (room_id, user_id,
  // muted, and the room when `with_room`).
  wire::v1::WsMessage About(const Live& live, const Participant& p, const std::string& type,
                            bool with_room) const;

  // The wire form of a room; `live` (may be null) gives the participants.
  static wire::v1::RoomInfo ToRoomInfo(const RoomRecord& record, const Live* live);
  int64_t NowMs() const;

  // Constant after construction.
  Store* const store_;
  Scheduler* const scheduler_;
  ConnectionSender* const sender_;
  const absl::Duration reconnect_window_;

  // Scheduler sequence only.
  std::map<std::string, Live> rooms_;              // by room_id
  std::map<ConnId, std::set<std::string>> conns_;  // room_ids of each connection's participants
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_CALLS_ROOM_ROUTER_H_
