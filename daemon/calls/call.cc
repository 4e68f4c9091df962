#include "daemon/calls/call.h"

#include <algorithm>

namespace callsd::daemon {
namespace {

struct Name {
  EndResult result;
  const char* name;
};
constexpr Name kNames[] = {
    {EndResult::kCompleted, "completed"},
    {EndResult::kCanceled, "canceled"},
    {EndResult::kDeclined, "declined"},
    {EndResult::kOtherDeviceAccepted, "other_device_accepted"},
    {EndResult::kTimedOut, "timed_out"},
    {EndResult::kNoAnswer, "no_answer"},
    {EndResult::kConnectionLost, "connection_lost"},
    {EndResult::kDialFailed, "dial_failed"},
    {EndResult::kAcceptFailed, "accept_failed"},
    {EndResult::kUnknown, "unknown"},
};

}  // namespace

const char* EndResultName(EndResult result) {
  for (const Name& n : kNames) {
    if (n.result == result) return n.name;
  }
  return "";
}

EndResult EndResultFromName(const std::string& name) {
  for (const Name& n : kNames) {
    if (name == n.name) return n.result;
  }
  return EndResult::kUnknown;
}

const char* CallStateName(CallState state) {
  switch (state) {
    case CallState::kDialing: return "DIALING";
    case CallState::kRinging: return "RINGING";
    case CallState::kAccepting: return "ACCEPTING";
    case CallState::kEstablished: return "ESTABLISHED";
    case CallState::kConnected: return "CONNECTED";
    case CallState::kReconnecting: return "RECONNECTING";
    case CallState::kEnded: return "ENDED";
  }
  return "?";
}

bool CallRecord::active() const {
  switch (state) {
    case CallState::kDialing:
    case CallState::kAccepting:
    case CallState::kEstablished:
    case CallState::kConnected:
    case CallState::kReconnecting:
      return true;
    case CallState::kRinging:
      // An outgoing call rings at the callee over our WebSocket.
      return direction == CallDirection::kOutgoing;
    case CallState::kEnded:
      return false;
  }
  return false;
}

absl::Duration CallRecord::Duration(absl::Time now) const {
  if (!connected_at) return absl::ZeroDuration();
  const absl::Time end = ended_at.value_or(now);
  return std::max(absl::ZeroDuration(), end - *connected_at);
}

}  // namespace callsd::daemon
