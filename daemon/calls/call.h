// A direct call as the daemon keeps it (DESIGN.md "Calls").
#ifndef CALLSD_DAEMON_CALLS_CALL_H_
#define CALLSD_DAEMON_CALLS_CALL_H_

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace callsd::daemon {

enum class CallDirection { kIncoming = 1, kOutgoing = 2 };

enum class CallState {
  kDialing = 1,       // outgoing, the server has not created it yet
  kRinging = 2,       // incoming: ringing here; outgoing: ringing at the callee
  kAccepting = 3,     // incoming, accepted here, waiting for the server
  kEstablished = 4,
  kConnected = 5,
  kReconnecting = 6,  // the WebSocket dropped during the call
  kEnded = 7,
};

enum class EndResult {
  kNone = 0,
  kCompleted = 1,
  kCanceled = 2,
  kDeclined = 3,
  kOtherDeviceAccepted = 4,
  kTimedOut = 5,
  kNoAnswer = 6,
  kConnectionLost = 7,
  kDialFailed = 8,
  kAcceptFailed = 9,
  kUnknown = 10,
};

// "completed", ... as on the wire; kUnknown for anything else.
const char* EndResultName(EndResult result);
EndResult EndResultFromName(const std::string& name);
const char* CallStateName(CallState state);

struct CallRecord {
  std::string call_id;
  CallDirection direction = CallDirection::kIncoming;
  std::string caller_id;
  std::string caller_nickname;
  std::string callee_id;
  std::string callee_nickname;
  bool video = false;
  CallState state = CallState::kRinging;
  absl::Time started_at;
  std::optional<absl::Time> established_at;
  std::optional<absl::Time> connected_at;
  std::optional<absl::Time> ended_at;
  EndResult end_result = EndResult::kNone;
  std::string ended_by;
  bool muted = false;
  bool remote_muted = false;
  // Incoming ringing calls: when they stop ringing by themselves.
  std::optional<absl::Time> ringing_until;

  bool ended() const { return state == CallState::kEnded; }
  // Needs the WebSocket: dialing, accepting, established, connected,
  // reconnecting. A ringing incoming call does not.
  bool active() const;
  const std::string& peer_id() const {
    return direction == CallDirection::kIncoming ? caller_id : callee_id;
  }
  // From connected to ended (or to `now` while connected).
  absl::Duration Duration(absl::Time now) const;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_CALLS_CALL_H_
