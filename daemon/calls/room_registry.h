// RoomRegistry: group calls (rooms) of this daemon's user (DESIGN.md
// "Calls": group calls; wire.proto above RoomParticipant).
//
// Rooms share the one WebSocket with the direct calls: CallRegistry owns
// the channel (it opens it, reconnects it and closes it when neither a call
// nor a room needs it) and lends it to the rooms through RoomChannelOwner.
// CallRegistry owns the RoomRegistry and hands it the room messages, the
// reconnection steps and the end of the session.
//
// Create and Get use REST and open no socket; Enter, Exit, SetMuted and
// Delete are WebSocket requests. A room is needed (the channel stays open)
// from Enter until it is left: exited, deleted, or disconnected past the
// reconnect window. Rooms are not stored: after a restart the daemon is in
// no room.
//
// Engine sequence only. Every `done` is called exactly once (possibly
// inline for errors found at once).
#ifndef CALLSD_DAEMON_CALLS_ROOM_REGISTRY_H_
#define CALLSD_DAEMON_CALLS_ROOM_REGISTRY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/scheduler.h"
#include "daemon/backend/backend.h"
#include "daemon/calls/room.h"
#include "daemon/events/events.h"
#include "daemon/session/session.h"

namespace callsd::daemon {

// The server refused the session key (400302, 400309, 400310): the session
// must re-authenticate.
bool IsSessionRejection(const absl::Status& status);

// What the rooms need of the WebSocket's owner.
class RoomChannelOwner {
 public:
  virtual ~RoomChannelOwner() = default;
  // Sends `message`, opening the WebSocket first when none is open.
  // UNAVAILABLE while it is being re-established; the session's error when
  // there are no credentials to open it with.
  virtual absl::Status SendOnChannel(const wire::v1::WsMessage& message) = 0;
  // Open (or opening) and not being re-established.
  virtual bool channel_usable() const = 0;
  // The rooms may no longer need the WebSocket: it closes unless a call or
  // a room still does (RoomRegistry::channel_needed).
  virtual void RoomsIdle() = 0;
};

class RoomRegistry {
 public:
  struct Options {
    // How long the server has to answer a request on the WebSocket.
    absl::Duration request_timeout = absl::Seconds(10);
  };
  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;
  using StatusDone = absl::AnyInvocable<void(absl::Status) &&>;

  // Nothing is owned; everything must outlive the registry.
  RoomRegistry(Scheduler* engine, Backend* backend, Session* session, EventSink* events,
               RoomChannelOwner* owner, Options options);
  ~RoomRegistry();

  // Every action needs an authenticated session (UNAUTHENTICATED/1800303
  // before, FAILED_PRECONDITION/1800302 before Init). Server refusals keep
  // their Calls code: FAILED_PRECONDITION for 1400120 (full), 1400121
  // (deleted), 1800700 (already in), 1800702 (not in); NOT_FOUND for
  // 400200; PERMISSION_DENIED for 401120 (delete by a non-owner).

  // POST /v1/rooms: a new room owned by this user (state kNone).
  void Create(RoomType type, Done<RoomRecord> done);
  // Enters `room_id` (opening the WebSocket or sharing a call's): the room
  // once the server let this participant in. FAILED_PRECONDITION/1800700
  // when this daemon is in it already.
  void Enter(const std::string& room_id, bool muted, Done<RoomRecord> done);
  // Exits: the room afterwards (kExited). Whatever the server answers, the
  // room is left here. FAILED_PRECONDITION/1800702 when not in it.
  void Exit(const std::string& room_id, Done<RoomRecord> done);
  // Mutes or unmutes this participant once the server acknowledged it.
  void SetMuted(const std::string& room_id, bool muted, Done<RoomRecord> done);
  // Deletes the room (the server allows its owner only); this daemon is
  // out of it if it was in it.
  void Delete(const std::string& room_id, StatusDone done);
  // GET /v1/rooms/{room_id}, with this daemon's state and audio in it.
  void Get(const std::string& room_id, Done<RoomRecord> done);

  // The rooms this daemon is in (entering, entered, reconnecting), by id;
  // valid until the registry changes.
  std::vector<const RoomRecord*> Refs() const;
  std::vector<RoomRecord> List() const;
  // In a room, or waiting for the answer to a room request.
  bool channel_needed() const;

  // --- For the channel's owner (CallRegistry) --------------------------------------
  // A message from the server; false when it is not about a room (the
  // caller handles it).
  bool OnChannelMessage(const wire::v1::WsMessage& message);
  // Answers every pending room request with `why` (the WebSocket is gone).
  void FailRequests(const absl::Status& why);
  // The WebSocket dropped: entered rooms are reconnecting.
  void OnReconnecting();
  // Rooms to take back on the new connection (the resume's room_ids).
  std::vector<std::string> ReconnectingIds() const;
  // The resume's answer: `held` rooms are back; the others are entered
  // again (the server lost its participants, e.g. it restarted), and left
  // (local_participant_disconnected) if the server refuses.
  void OnResumed(const std::set<std::string>& held);
  // Every room is lost (`why`): local_participant_disconnected.
  void Disconnect(const absl::Status& why);
  // The session ended (logout, APP_ID change): tells the server this
  // participant exits every room while the WebSocket is still open, then
  // leaves them here with `why`.
  void ExitAll(const absl::Status& why);
  // Exits every room (best effort) and answers pending requests with
  // UNAVAILABLE; later calls are refused.
  void Shutdown();

 private:
  using AnswerDone = absl::AnyInvocable<void(absl::StatusOr<wire::v1::WsMessage>) &&>;
  struct Request {
    std::string type;
    std::string room_id;
    AnswerDone done;
    TimerId timer = 0;
  };

  RoomRecord* Find(const std::string& room_id);
  // FAILED_PRECONDITION/1800702 unless this daemon is in `room_id`.
  absl::StatusOr<RoomRecord*> FindEntered(const std::string& room_id, const char* action);
  // Sends a request; `done` gets the server's answer, or its error (the
  // Calls code kept), or UNAVAILABLE on timeout / a lost connection.
  void SendRequest(wire::v1::WsMessage message, AnswerDone done);
  void OnRequestTimeout(const std::string& req_id);
  void OnServerEvent(const wire::v1::WsMessage& message);
  // Enters a reconnecting room again after a resume that did not hold it.
  void Reenter(const std::string& room_id);
  void OnParticipant(RoomRecord* room, RoomParticipantChanged::Kind kind,
                     const wire::v1::WsMessage& message);
  // Sends exit without waiting for the answer (best effort).
  void SendExit(const std::string& room_id);
  // Sends exit for every room the server has this participant in. Best
  // effort: while the WebSocket is down (reconnecting) nothing can be
  // sent, and the server removes the participants after its reconnect
  // window instead.
  void SendExits();
  // Leaves the room here: kExited, the event, forgotten. Returns the room
  // as it was left.
  RoomRecord Leave(const std::string& room_id, RoomChanged::Kind kind, absl::Status reason);
  void Publish(RoomChanged::Kind kind, const RoomRecord& room, absl::Status reason = {});
  void ReportRejection(const absl::Status& status);

  Scheduler* const engine_;
  Backend* const backend_;
  Session* const session_;
  EventSink* const events_;
  RoomChannelOwner* const owner_;
  const Options options_;

  std::map<std::string, RoomRecord> rooms_;  // in a room: entering, entered, reconnecting
  std::map<std::string, Request> requests_;  // by req_id
  uint64_t next_req_ = 1;
  bool shut_down_ = false;
  // Bumped when the session ends: REST answers of older requests are
  // ignored.
  uint64_t generation_ = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_CALLS_ROOM_REGISTRY_H_
