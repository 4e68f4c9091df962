// Checks of client requests before they reach the domain. Each returns OK or
// INVALID_ARGUMENT naming the field ("user_id: must not be empty").
#ifndef CALLSD_DAEMON_RPC_VALIDATION_H_
#define CALLSD_DAEMON_RPC_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "callsd/v1/callsd.pb.h"

namespace callsd::daemon::rpc {

inline constexpr size_t kMaxIdBytes = 256;       // app ids, user ids
inline constexpr size_t kMaxTokenBytes = 4096;   // access and session tokens
inline constexpr size_t kMaxPushTokenBytes = 1000;

// Non-empty, at most `max_bytes`, valid UTF-8 without control characters.
absl::Status ValidateText(absl::string_view field, absl::string_view value, size_t max_bytes);
// Like ValidateText, and no whitespace at all (tokens are opaque words).
absl::Status ValidateToken(absl::string_view field, absl::string_view value);

// Requests with nothing to check.
inline absl::Status Validate(const callsd::v1::GetStateRequest&) { return absl::OkStatus(); }
inline absl::Status Validate(const callsd::v1::DeauthenticateRequest&) { return absl::OkStatus(); }
inline absl::Status Validate(const callsd::v1::ListPushTokensRequest&) { return absl::OkStatus(); }

absl::Status Validate(const callsd::v1::InitRequest& request);
absl::Status Validate(const callsd::v1::AuthenticateRequest& request);
absl::Status Validate(const callsd::v1::RefreshSessionTokenRequest& request);
// A push token is an endpoint URL: http or https, at most 1000 bytes.
absl::Status ValidatePushToken(absl::string_view token);
absl::Status Validate(const callsd::v1::RegisterPushTokenRequest& request);
absl::Status Validate(const callsd::v1::UnregisterPushTokenRequest& request);
absl::Status Validate(const callsd::v1::UnregisterAllPushTokensRequest& request);
inline constexpr size_t kMaxCallIdBytes = 128;
inline absl::Status Validate(const callsd::v1::ListCallsRequest&) { return absl::OkStatus(); }
absl::Status Validate(const callsd::v1::DialRequest& request);
absl::Status Validate(const callsd::v1::AcceptRequest& request);
absl::Status Validate(const callsd::v1::DeclineRequest& request);
absl::Status Validate(const callsd::v1::EndRequest& request);
absl::Status Validate(const callsd::v1::SetMutedRequest& request);
absl::Status Validate(const callsd::v1::GetCallHistoryRequest& request);
absl::Status Validate(const callsd::v1::DeliverPushRequest& request);

// Rooms: room_id as an id (ValidateText, at most kMaxIdBytes); a room type
// of the enum (UNSPECIFIED: small).
inline absl::Status Validate(const callsd::v1::ListRoomsRequest&) { return absl::OkStatus(); }
absl::Status Validate(const callsd::v1::CreateRoomRequest& request);
absl::Status Validate(const callsd::v1::EnterRoomRequest& request);
absl::Status Validate(const callsd::v1::ExitRoomRequest& request);
absl::Status Validate(const callsd::v1::SetRoomMutedRequest& request);
absl::Status Validate(const callsd::v1::DeleteRoomRequest& request);
absl::Status Validate(const callsd::v1::GetRoomRequest& request);

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_VALIDATION_H_
