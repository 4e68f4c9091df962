// CallRouter: the direct calls of calls-server (DESIGN.md "Calls", and the
// WsMessage comment in proto/wire/v1/wire.proto): it answers the requests
// that arrive on WebSocket connections, tells each side of a call what
// happened, pushes to the callee's devices, and keeps every call in the
// Store so that call logs and reconnection survive a restart.
//
// It knows nothing of sockets: connections are numbers (ConnId) that the
// transport (server/ws/ws_endpoint.h) announces with OnOpen / OnClose and
// reaches through ConnectionSender; pushes go through a Pusher; time and
// timers come from the Scheduler. Tests drive it with a SimulatedScheduler
// and fakes.
//
// Threading: every method, and every ConnectionSender / Pusher call it
// makes, runs on the scheduler's sequence (in calls-server: the
// libwebsockets service thread, see server/ws/lws_scheduler.h). The Store is
// thread-safe and is called inline (it is local SQLite).
//
// Messages (JSON of wire.v1.WsMessage; "->" is the answer to the requester,
// which echoes its req_id; every other message carries no req_id):
//
//   on OnOpen:  hello {user_id}
//   dial {callee_id, video}
//        400111 no callee_id, 1400104 callee is the caller, 1400103 no such
//        user in the app, 1400106 the callee never authenticated;
//        -> dialing {call_id, call} (state "ringing"); call.ringing is pushed
//        to the callee's voip tokens, and ringing_ack {call_id} goes to the
//        caller's connection when the first push endpoint answers 2xx (at
//        most once per call).
//   accept {call_id}  (a connection of the callee)
//        -> established {call_id, call}; established {call_id, call} to the
//        caller; then (simulated media) connected {call_id, call} to both
//        sides; call.canceled (end_result "other_device_accepted") is pushed
//        to the callee's voip tokens.
//   end {call_id}  (a connection of either side)
//        ringing, by the caller -> "canceled" (call.canceled "canceled" to
//        the callee's voip tokens, call.missed "canceled" to their remote
//        tokens); ringing, by the callee -> "declined" (call.canceled
//        "declined" to the callee's voip tokens); established or connected
//        -> "completed" with duration_ms = ended_at - connected_at (0 if it
//        never connected). ended {call_id, end_result, duration_ms,
//        ended_by, call} goes to the requester (-> with req_id) and to each
//        side's connection.
//   mute / unmute {call_id}  (either side, call not ended)
//        -> ack {call_id}; remote_audio_changed {call_id, user_id, muted} to
//        the other side's connection.
//   resume {call_ids, room_ids}  (any connection of the user, after a
//        reconnect)
//        -> resumed {calls, room_ids}: those of call_ids that have not ended
//        and have the user as a side, and the room_ids whose participant the
//        RoomRouter gave back to this connection (room_router.h). This
//        connection becomes the user's side of each call (for a ringing
//        call: only the caller's side), ending its reconnect window; another
//        connection that held it loses it. Unknown, ended and other users'
//        calls are left out silently.
//   ping -> pong
//   enter, exit, delete_room, and mute / unmute with a room_id and no
//   call_id: the RoomRouter's (room_router.h), when one is set.
//   anything else: error {req_id, code 400100 (unknown type) or 400111 (no
//   type)}.
//
// Request errors are error {req_id, call_id, code, message}: 400111 a field
// is missing; 1400102 no such call, or the user is not a side of it (no
// other user's call is revealed); 1400101 the call is not in a state that
// allows the request (e.g. already accepted, already ended); 401120 the
// user is the wrong side (the caller accepting); 500901 the store failed.
//
// Unasked, besides the above:
//   ringing timeout (Options::ringing_timeout after created_at): the call
//   ends "no_answer" (stored, and sent to the caller); call.canceled
//   "timed_out" to the callee's voip tokens, call.missed "timed_out" to their
//   remote tokens.
//   connection closed: a ringing call whose caller's connection it was ends
//   "canceled" (with the pushes of a cancel). An established or connected
//   call keeps going for Options::reconnect_window; if no connection of that
//   user resumes it in time it ends "connection_lost" (ended to the other
//   side), with duration_ms from connected to the end of the window.
//   restart (Recover()): every call that had not ended gets a reconnect
//   window for each side, from the start; a ringing call also keeps its
//   ringing timeout.
//
// ended_by is the user who ended the call (the caller for canceled, the
// callee for declined, the requester for completed) and "" for no_answer
// and connection_lost. The callee's view of "no_answer" is "timed_out"
// (the stored CallInfo.end_result is the caller's view).
#ifndef CALLSD_SERVER_CALLS_CALL_ROUTER_H_
#define CALLSD_SERVER_CALLS_CALL_ROUTER_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/scheduler.h"
#include "server/calls/connection.h"
#include "server/store/store.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server {

// One push: a PushPayload for every push token of `token_type` of the
// recipient (app_id, user_id).
struct PushJob {
  std::string app_id;
  std::string user_id;  // the recipient
  PushType token_type = PushType::kVoip;
  std::string type;  // "call.ringing", "call.canceled" or "call.missed"
  std::string call_id;
  std::string caller_id;
  std::string caller_nickname;
  bool video = false;
  int32_t ttl_s = 60;
  std::string end_result;  // call.canceled / call.missed
};

class Pusher {
 public:
  virtual ~Pusher() = default;
  // Sends `job` in the background; never blocks on the network.
  // `on_delivered` (may be empty) runs at most once, on the router's
  // sequence, when the first endpoint accepts the push (HTTP 2xx).
  virtual void Push(PushJob job, absl::AnyInvocable<void() &&> on_delivered) = 0;
};

struct CallRouterOptions {
  absl::Duration ringing_timeout = absl::Seconds(60);
  absl::Duration reconnect_window = absl::Seconds(15);
};

// The wire form of a call.
wire::v1::CallInfo ToCallInfo(const CallRecord& call);

class RoomRouter;

class CallRouter {
 public:
  // Every pointer must outlive the router.
  CallRouter(Store* store, Scheduler* scheduler, ConnectionSender* sender, Pusher* pusher,
             CallRouterOptions options = {});
  // Cancels the router's timers.
  ~CallRouter();

  CallRouter(const CallRouter&) = delete;
  CallRouter& operator=(const CallRouter&) = delete;

  // At start, before any connection: takes the calls that had not ended
  // from the store (every side without connection, see the header
  // comment). Returns how many; store errors as they come.
  absl::StatusOr<int> Recover();

  // Where room messages, closes and resumes go as well (nullptr: none; room
  // messages are then unknown types). Set before any connection; `rooms`
  // must outlive the router.
  void set_rooms(RoomRouter* rooms) { rooms_ = rooms; }

  // A connection authenticated as `who`: sends hello.
  void OnOpen(ConnId conn, ConnectionInfo who);
  // A well-formed message from `conn` (the transport answers malformed
  // ones itself).
  void OnMessage(ConnId conn, const wire::v1::WsMessage& message);
  // `conn` is gone (no message can reach it any more).
  void OnClose(ConnId conn);

  // POST /v1/calls/{call_id}/decline by `user`: the callee declines a
  // ringing call without a WebSocket. Returns the ended call. Errors carry
  // Calls codes: 400111 no call_id, 1400102 no such call of the user,
  // 401120 the user is the caller, 1400101 not ringing; store failures as
  // they come.
  absl::StatusOr<CallRecord> Decline(const UserRecord& user, absl::string_view call_id);

  // For tests and logs.
  size_t live_calls() const { return calls_.size(); }
  size_t connections() const { return conns_.size(); }

 private:
  enum class Side { kCaller, kCallee };

  // A call that has not ended.
  struct Live {
    CallRecord record;
    TimerId ringing_timer = 0;
    TimerId caller_window = 0;  // reconnect window of a side without connection
    TimerId callee_window = 0;
    bool ringing_acked = false;
  };
  struct Conn {
    ConnectionInfo who;
    std::set<std::string> calls;  // the calls this connection is a side of
  };

  // Requests.
  void Dial(ConnId conn, const Conn& c, const wire::v1::WsMessage& m);
  void Accept(ConnId conn, const Conn& c, const wire::v1::WsMessage& m);
  void End(ConnId conn, const Conn& c, const wire::v1::WsMessage& m);
  void Mute(ConnId conn, const Conn& c, const wire::v1::WsMessage& m, bool muted);
  void Resume(ConnId conn, const Conn& c, const wire::v1::WsMessage& m);

  // The live call `call_id` of which the user is a side, or an error status
  // with a Calls code (see Decline) for a missing, foreign or ended call.
  absl::StatusOr<Live*> Lookup(absl::string_view app_id, int64_t user_rowid,
                               absl::string_view call_id);

  // Ends `live` with `result`: stores it, sends ended to each side's
  // connection and to `requester` (with `req_id`; 0 for none), and forgets
  // it (`live` is gone on return). Returns the ended call. The pushes are
  // the caller's business.
  CallRecord Finish(Live& live, const std::string& result, const std::string& ended_by,
                    ConnId requester, const std::string& req_id);
  // Ends a ringing call canceled by its caller (request or lost
  // connection), with its pushes.
  CallRecord CancelRinging(Live& live, ConnId requester, const std::string& req_id);

  // Makes `conn` the `side` of `live` (0: none).
  void Bind(Live& live, Side side, ConnId conn, const std::string& session_hash);
  void StartWindow(Live& live, Side side);
  void OnWindowOver(const std::string& call_id, Side side);
  void OnRingingTimeout(const std::string& call_id);
  void OnPushDelivered(const std::string& call_id);

  void PushToCallee(const CallRecord& call, PushType token_type, const std::string& type,
                    const std::string& end_result);
  void Save(const CallRecord& call);
  void Reply(ConnId conn, wire::v1::WsMessage message, const wire::v1::WsMessage& request);
  void ReplyError(ConnId conn, const wire::v1::WsMessage& request, const absl::Status& status);
  void SendTo(ConnId conn, const wire::v1::WsMessage& message);
  int64_t NowMs() const;

  // Constant after construction.
  Store* const store_;
  Scheduler* const scheduler_;
  ConnectionSender* const sender_;
  Pusher* const pusher_;
  const CallRouterOptions options_;
  RoomRouter* rooms_ = nullptr;

  // Scheduler sequence only.
  std::map<std::string, Live> calls_;  // by call_id
  std::map<ConnId, Conn> conns_;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_CALLS_CALL_ROUTER_H_
