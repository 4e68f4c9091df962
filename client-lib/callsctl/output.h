// callsctl's output: human text and JSON for the daemon's messages, and the
// text of an error. Pure functions of their arguments (time and time zone
// are passed in), so that tests can check them on hand-built protos.
#ifndef CALLSD_CLIENT_LIB_CALLSCTL_OUTPUT_H_
#define CALLSD_CLIENT_LIB_CALLSCTL_OUTPUT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.pb.h"
#include "google/protobuf/message.h"

namespace callsd::ctl {

// What the formatters need to know about "now" and where.
struct TimeContext {
  absl::Time now;
  absl::TimeZone zone;
};

// The message as JSON: proto field names (snake_case), enums as names,
// fields with default values included. `pretty`: indented over several
// lines; otherwise one line. No trailing newline.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, bool pretty);

// Enum names without their prefix: "AUTHENTICATED", "SESSION_TOKEN",
// "REGISTERED"; push types in lower case: "voip", "remote". Unknown values
// give their number.
std::string SessionStateName(callsd::v1::SessionState state);
std::string TokenKindName(callsd::v1::TokenKind kind);
std::string PushTypeName(callsd::v1::PushTokenType type);
std::string PushStateName(callsd::v1::PushTokenServerState state);

// Calls: states in upper case ("DIALING", "CONNECTED"), end results and
// directions in lower case as on the wire ("completed", "other_device_accepted",
// "incoming"). Unspecified values give "-", unknown ones their number.
std::string CallStateName(callsd::v1::CallState state);
std::string EndResultName(callsd::v1::EndResult result);
std::string CallDirectionName(callsd::v1::CallDirection direction);

// Rooms: types in lower case ("small", "large"), this device's state in
// upper case ("ENTERED", "RECONNECTING"); "-" for unspecified values.
std::string RoomTypeName(callsd::v1::RoomType type);
std::string RoomStateName(callsd::v1::RoomState state);

// "0:42", "12:05", "1:02:03" (minutes:seconds, hours when needed; truncated
// to the second; negative durations count as zero).
std::string FormatCallDuration(absl::Duration duration);

// The billed time of `call`: for an ended call (state ENDED, or an end time
// or end result) its final duration (duration_ms, else ended_at -
// connected_at); for a call that is connected (or reconnecting), from
// connected_at to `now`; nullopt for a call that never connected.
std::optional<absl::Duration> CallDuration(const callsd::v1::Call& call, absl::Time now);

// The other side's user id: `peer`, else the callee of an outgoing call or
// the caller of an incoming one; "?" when unknown.
std::string CallPeerId(const callsd::v1::Call& call);

// The direction and the other side of a call-log entry as seen by
// `user_id` (the logged-in user): outgoing when the user is the caller,
// incoming when the callee. When `user_id` is empty or neither side, the
// call's own direction and peer.
struct UserView {
  callsd::v1::CallDirection direction = callsd::v1::CALL_DIRECTION_UNSPECIFIED;
  callsd::v1::User peer;
};
UserView ViewOf(const callsd::v1::Call& call, absl::string_view user_id);

// "in 1m 58s", "3h 5m ago", "now": the two largest units, truncated.
std::string FormatRelative(absl::Time t, absl::Time now);

// "2025-01-02 15:04:05 UTC (in 1m 58s)".
std::string FormatTimeWithRelative(absl::Time t, const TimeContext& tc);

// "invalid access token (Calls code 400302)"; "" for an empty ErrorInfo.
std::string FormatErrorInfo(const callsd::v1::ErrorInfo& info);

// Aligned "key: value" lines (each ending with a newline) for `status`,
// then, when calls are ongoing, a "calls:" section with their table, and
// when this device is in rooms, a "rooms:" section with theirs.
std::string FormatState(const callsd::v1::State& state, const TimeContext& tc);

// One line (no newline) for `watch`: time, "#seq", kind, the essentials.
std::string FormatEvent(const callsd::v1::Event& event, const TimeContext& tc);

// The `calls` table (or "no calls"): CALL ID, DIRECTION, PEER, STATE,
// DURATION, END RESULT, STARTED; lines ending with newlines.
std::string FormatCalls(const callsd::v1::ListCallsResponse& response, const TimeContext& tc);

// `room show`: the room's key facts ("room", "type", "owner", "this
// device", "participants: N of MAX"), then the participants table (USER,
// AUDIO on/muted, ENTERED) or "no participants"; lines end with newlines.
std::string FormatRoom(const callsd::v1::Room& room, const TimeContext& tc);

// The `room list` table (or "not in any room"): ROOM ID, TYPE, STATE,
// PARTICIPANTS (N/MAX), OWNER, AUDIO (this device's); lines end with newlines.
std::string FormatRooms(const callsd::v1::ListRoomsResponse& response);

// The `history` table (or "no calls in the history"): TIME, DIRECTION and
// PEER as seen by `user_id` (see ViewOf), END RESULT, DURATION, CALL ID;
// then the note when the answer came from the daemon's cache, then the
// command for the next page when there is one (with `--limit limit` when
// `limit` > 0).
std::string FormatCallHistory(const callsd::v1::GetCallHistoryResponse& response,
                              absl::string_view user_id, int limit, const TimeContext& tc);

// One line (no newline) for `push deliver`: "rang: call X from alice",
// "duplicate: ...", "call X has already ended (...)", "canceled: ...",
// "missed: ...".
std::string FormatPushOutcome(const callsd::v1::DeliverPushResponse& response);

// The `push list` table (or "no push tokens"), lines ending with newlines.
std::string FormatPushTokens(const callsd::v1::ListPushTokensResponse& response,
                             const TimeContext& tc);

// What callsctl prints on stderr for a failed command: "callsctl: COMMAND:
// MESSAGE (Calls code N)", then "field: F", "needs the T tier" and
// "hint: H" lines where the ErrorInfo has them. A room command's error
// with a room code (full, deleted, already in, not in, not the owner, no
// such room) and no hint of the daemon's gets callsctl's hint for that
// code. Ends with a newline.
std::string FormatCommandError(absl::string_view command, const absl::Status& status);

// Aligned "key: value" lines from pairs.
std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace callsd::ctl

#endif  // CALLSD_CLIENT_LIB_CALLSCTL_OUTPUT_H_
