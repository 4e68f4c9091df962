// What the domain tells the outside world. rpc/ turns these into
// callsd.v1.Event for watchers; the domain includes no gRPC.
#ifndef CALLSD_DAEMON_EVENTS_EVENTS_H_
#define CALLSD_DAEMON_EVENTS_EVENTS_H_

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/calls/call.h"
#include "daemon/calls/room.h"
#include "daemon/store/state_store.h"

namespace callsd::daemon {

enum class SessionState {
  kNotInitialized,
  kLoggedOut,
  kAuthenticating,
  kAuthenticated,
  kTokenRequired,
};

const char* SessionStateName(SessionState state);

// The session as a reader sees it.
struct SessionSnapshot {
  std::string app_id;
  SessionState state = SessionState::kNotInitialized;
  std::string user_id;   // empty when nobody is logged in
  std::string nickname;
  std::optional<TokenKind> token_kind;
  std::optional<absl::Time> token_expires_at;
  // Why the session is not (yet) authenticated; OK otherwise.
  absl::Status last_error;
  std::optional<absl::Time> next_retry_at;
};

struct SessionStateChanged {
  SessionState state;
  SessionState previous;
  std::string user_id;
  std::string nickname;
  absl::Status reason;  // OK unless a failure caused the change
};

struct SessionTokenWillExpire {
  absl::Time expires_at;
};

struct SessionTokenRequired {
  absl::Status reason;
};

struct AppChanged {
  std::string app_id;
  std::string previous_app_id;
};

struct PushTokensChanged {
  std::vector<StoredPushToken> tokens;
};

// Something happened to a call; `call` is the call afterwards.
struct CallChanged {
  enum class Kind {
    kRinging,           // an incoming call rings here
    kDialing,           // an outgoing call exists on the server
    kRemoteRinging,     // it rings at the callee
    kEstablished,
    kConnected,
    kEnded,
    kReconnecting,
    kReconnected,
    kLocalAudioChanged,
  };
  Kind kind;
  CallRecord call;
};

struct RemoteAudioChanged {
  CallRecord call;
  bool muted = false;
};

struct PushForEndedCall {
  std::string call_id;
  std::string push_type;
  std::optional<CallRecord> call;
};

// This daemon's user in a room; `room` is the room afterwards.
struct RoomChanged {
  enum class Kind {
    kEntered,
    kExited,        // asked for, or the session ended (`reason` says so)
    kDeleted,       // the owner deleted it: out of it
    kReconnecting,  // the WebSocket dropped while in it
    kReconnected,
    kLocalParticipantDisconnected,  // not back within the window: out of it
  };
  Kind kind;
  RoomRecord room;
  // Why, when the room was left without being asked to; OK otherwise.
  absl::Status reason;
};

// Another participant of a room (or this one, for a mute from here).
struct RoomParticipantChanged {
  enum class Kind { kEntered, kExited, kAudioChanged };
  Kind kind;
  RoomRecord room;
  RoomParticipantRecord participant;
};

using DomainEvent =
    std::variant<SessionStateChanged, SessionTokenWillExpire, SessionTokenRequired, AppChanged,
                 PushTokensChanged, CallChanged, RemoteAudioChanged, PushForEndedCall,
                 RoomChanged, RoomParticipantChanged>;

// Where the domain sends events. Called on the engine sequence only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // An event for every watcher, in order. Implies StateChanged().
  virtual void Publish(DomainEvent event) = 0;
  // Something a reader of the state can see changed without an event of
  // its own (e.g. the next retry time).
  virtual void StateChanged() = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_EVENTS_EVENTS_H_
