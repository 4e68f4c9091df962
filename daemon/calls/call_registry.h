// CallRegistry: direct calls (DESIGN.md "Calls"), and the owner of the one
// WebSocket that calls and rooms share.
//
// Incoming calls arrive by push and ring without any socket to the server.
// The WebSocket (CallChannel) is opened by Dial, Accept and a room's Enter
// and closed when neither an active call nor a room needs it
// (channel_needed). Its rooms (RoomRegistry, rooms()) get the room
// messages, the reconnection (the resume carries their ids too) and the
// end of the session. Accept and Decline that arrive while the
// session is still authenticating wait for it (bounded by the ringing
// timeout). Missed pushes are recovered after every authentication by
// asking the server for calls ringing for the user.
//
// Engine sequence only. Every `done` is called exactly once.
#ifndef CALLSD_DAEMON_CALLS_CALL_REGISTRY_H_
#define CALLSD_DAEMON_CALLS_CALL_REGISTRY_H_

#include <deque>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/backoff.h"
#include "common/scheduler.h"
#include "daemon/backend/backend.h"
#include "daemon/backend/call_channel.h"
#include "daemon/calls/call.h"
#include "daemon/calls/room_registry.h"
#include "daemon/events/events.h"
#include "daemon/session/session.h"
#include "daemon/store/state_store.h"

namespace callsd::daemon {

class CallRegistry final : public SessionListener,
                           public CallChannel::Listener,
                           private RoomChannelOwner {
 public:
  struct Options {
    // An incoming call stops ringing by itself after this.
    absl::Duration ringing_timeout = absl::Seconds(60);
    // A call whose WebSocket dropped ends (connection_lost) unless the
    // daemon reconnects within this.
    absl::Duration reconnect_window = absl::Seconds(15);
    // How long the server has to answer a request on the WebSocket.
    absl::Duration request_timeout = absl::Seconds(10);
    // Ended calls are remembered this long (late pushes, ListCalls).
    absl::Duration keep_ended = absl::Hours(24);
  };

  enum class PushOutcome { kRang, kDuplicate, kCallEnded, kCanceled, kMissed };
  // "rang", "duplicate", "call_ended", "canceled", "missed".
  static const char* PushOutcomeName(PushOutcome outcome);
  struct PushResult {
    PushOutcome outcome = PushOutcome::kRang;
    std::optional<CallRecord> call;
  };
  struct History {
    std::vector<wire::v1::CallInfo> calls;
    std::string next;
    bool from_cache = false;
  };
  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  // Nothing is owned; everything must outlive the registry.
  CallRegistry(Scheduler* engine, StateStore* store, Backend* backend, CallChannel* channel,
               Session* session, EventSink* events, Options options);
  ~CallRegistry() override;

  // Loads the stored calls: ringing ones still in their window ring on,
  // others that were ringing time out, active ones end as connection_lost
  // (their WebSocket died with the previous process).
  absl::Status Start();
  // Answers every waiting caller with UNAVAILABLE and stops the timers.
  void Shutdown();

  void Dial(const std::string& callee_id, bool video, Done<CallRecord> done);
  void Accept(const std::string& call_id, Done<CallRecord> done);
  void Decline(const std::string& call_id, Done<CallRecord> done);
  void End(const std::string& call_id, Done<CallRecord> done);
  void SetMuted(const std::string& call_id, bool muted, Done<CallRecord> done);
  void GetHistory(int limit, const std::string& next, Done<History> done);
  // A push payload as received; see DeliverPush in callsd.proto.
  void DeliverPush(const std::string& payload, Done<PushResult> done);

  // Ongoing calls first, then recently ended ones (newest first).
  std::vector<CallRecord> List() const;
  std::vector<CallRecord> Ongoing() const;
  // The same without copies (the State is rebuilt from them at every
  // event); valid until the registry changes.
  std::vector<const CallRecord*> OngoingRefs() const;
  // An active call or a room needs the WebSocket.
  bool channel_needed() const;

  // The rooms, sharing this registry's WebSocket (same thread rules).
  RoomRegistry* rooms() { return rooms_.get(); }
  const RoomRegistry* rooms() const { return rooms_.get(); }

  // SessionListener.
  void OnAuthenticated(const SessionCredentials& creds) override;
  void OnSessionSuspended(const absl::Status& reason) override;
  void OnSessionEnded(bool app_changed) override;

  // CallChannel::Listener.
  void OnChannelOpen() override;
  void OnChannelMessage(const wire::v1::WsMessage& message) override;
  void OnChannelClosed(const absl::Status& why) override;

 private:
  struct Request {
    std::string type;
    std::string call_id;
    Done<CallRecord> done;
    TimerId timer = 0;
  };
  // Accept / Decline waiting for the authentication in progress.
  struct Waiting {
    enum class Kind { kAccept, kDecline } kind;
    std::string call_id;
    Done<CallRecord> done;
  };

  CallRecord* Find(const std::string& call_id);
  // NOT_FOUND/1400102 for an unknown call, FAILED_PRECONDITION naming the
  // state for a call that is not an incoming ringing one.
  absl::Status CheckAnswerable(const std::string& call_id);
  void StartAccept(const std::string& call_id, Done<CallRecord> done);
  void StartDecline(const std::string& call_id, Done<CallRecord> done);
  void RunWaiting(const absl::Status& auth_result);

  // Sends a request on the WebSocket (opening it if needed); `done` gets
  // the call when the answer arrives, or an error on timeout / close.
  void SendRequest(wire::v1::WsMessage message, Done<CallRecord> done);
  void OnRequestTimeout(const std::string& req_id);
  void FailRequests(const absl::Status& why);

  void OnServerCall(const wire::v1::CallInfo& info, CallChanged::Kind kind);
  void OnEnded(const wire::v1::WsMessage& message);
  void EndCall(CallRecord* call, EndResult result, const std::string& ended_by,
               std::optional<int64_t> duration_ms = std::nullopt);
  void Ring(CallRecord call);
  void ScheduleRingingTimeout(const CallRecord& call);
  void Changed(CallChanged::Kind kind, const CallRecord& call);
  void Save(const CallRecord& call);
  void RecoverMissedPushes(const SessionCredentials& creds);
  void EnsureChannel();
  void MaybeCloseChannel();
  void StartReconnecting(const absl::Status& why);
  void TryReconnect();
  void OnReconnectWindowOver();

  // RoomChannelOwner.
  absl::Status SendOnChannel(const wire::v1::WsMessage& message) override;
  bool channel_usable() const override;
  void RoomsIdle() override { MaybeCloseChannel(); }

  Scheduler* const engine_;
  StateStore* const store_;
  Backend* const backend_;
  CallChannel* const channel_;
  Session* const session_;
  EventSink* const events_;
  const Options options_;

  std::map<std::string, CallRecord> calls_;
  std::map<std::string, TimerId> ringing_timers_;
  std::map<std::string, Request> requests_;  // by req_id
  std::deque<Waiting> waiting_;
  std::map<std::string, TimerId> waiting_timers_;  // by call_id (ringing bound)
  // Calls whose REST decline is in flight.
  std::set<std::string> declining_;
  // The resume request sent after a reconnect ("" when none).
  std::string resume_req_id_;
  uint64_t next_req_ = 1;
  uint64_t next_local_ = 1;
  bool shut_down_ = false;
  bool reconnecting_ = false;
  TimerId reconnect_timer_ = 0;
  TimerId window_timer_ = 0;
  Backoff reconnect_backoff_;
  // Bumped when the session ends: answers of older requests are ignored.
  uint64_t generation_ = 0;
  // Last: it calls back into this registry (RoomChannelOwner).
  std::unique_ptr<RoomRegistry> rooms_;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_CALLS_CALL_REGISTRY_H_
