// callsctl's output: human text and JSON for the daemon's messages, and the
// text of an error. Pure functions of their arguments (time and time zone
// are passed in), so that tests can check them on hand-built protos.
#ifndef CALLSD_CLIENT_LIB_CALLSCTL_OUTPUT_H_
#define CALLSD_CLIENT_LIB_CALLSCTL_OUTPUT_H_

#include <string>
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

// "in 1m 58s", "3h 5m ago", "now": the two largest units, truncated.
std::string FormatRelative(absl::Time t, absl::Time now);

// "2025-01-02 15:04:05 UTC (in 1m 58s)".
std::string FormatTimeWithRelative(absl::Time t, const TimeContext& tc);

// "invalid access token (Calls code 400302)"; "" for an empty ErrorInfo.
std::string FormatErrorInfo(const callsd::v1::ErrorInfo& info);

// Aligned "key: value" lines (each ending with a newline) for `status`.
std::string FormatState(const callsd::v1::State& state, const TimeContext& tc);

// One line (no newline) for `watch`: time, "#seq", kind, the essentials.
std::string FormatEvent(const callsd::v1::Event& event, const TimeContext& tc);

// The `push list` table (or "no push tokens"), lines ending with newlines.
std::string FormatPushTokens(const callsd::v1::ListPushTokensResponse& response,
                             const TimeContext& tc);

// What callsctl prints on stderr for a failed command: "callsctl: COMMAND:
// MESSAGE (Calls code N)", then "field: F", "needs the T tier" and
// "hint: H" lines where the ErrorInfo has them. Ends with a newline.
std::string FormatCommandError(absl::string_view command, const absl::Status& status);

// Aligned "key: value" lines from pairs.
std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace callsd::ctl

#endif  // CALLSD_CLIENT_LIB_CALLSCTL_OUTPUT_H_
