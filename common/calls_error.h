// Calls error codes and their place in absl::Status.
//
// A Status that comes from the calls server, or that the daemon wants a
// client to see with a Calls code, carries the code as a payload; rpc/ turns
// it into callsd.v1.ErrorInfo. The domain never includes gRPC.
#ifndef CALLSD_COMMON_CALLS_ERROR_H_
#define CALLSD_COMMON_CALLS_ERROR_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace callsd {

// Codes of the Calls SDK (client side).
inline constexpr int kCodeNotInitialized = 1800302;
inline constexpr int kCodeNotAuthenticated = 1800303;

// Codes of a Calls server (DESIGN.md "Wire protocol").
inline constexpr int kCodeInvalidParams = 400100;
inline constexpr int kCodeMissingParams = 400111;
inline constexpr int kCodeNotFound = 400200;
inline constexpr int kCodeAlreadyExists = 400202;
inline constexpr int kCodeInvalidAccessToken = 400302;
inline constexpr int kCodeSessionKeyExpired = 400309;
inline constexpr int kCodeSessionTokenRevoked = 400310;
inline constexpr int kCodeNotAllowed = 401120;
inline constexpr int kCodeInvalidCallStatus = 1400101;
inline constexpr int kCodeCallDoesNotExist = 1400102;
inline constexpr int kCodeCalleeDoesNotExist = 1400103;
inline constexpr int kCodeDialMyself = 1400104;
inline constexpr int kCodeCalleeNeverAuthenticated = 1400106;
// Rooms (wire.proto, above RoomParticipant).
inline constexpr int kCodeParticipantLimitReached = 1400120;
inline constexpr int kCodeRoomDeleted = 1400121;
inline constexpr int kCodeAlreadyInRoom = 1800700;
inline constexpr int kCodeNotInRoom = 1800702;
inline constexpr int kCodeInternal = 500901;

// The gRPC-style status code a server error code maps to.
absl::StatusCode StatusCodeForServerCode(int calls_code);

// Builds a status carrying a Calls code (0: none), an optional request field
// (for INVALID_ARGUMENT) and an optional hint (what to do next).
absl::Status CallsError(absl::StatusCode code, int calls_code, absl::string_view message,
                        absl::string_view field = {}, absl::string_view hint = {});

// An INVALID_ARGUMENT naming `field`: "field: message".
absl::Status InvalidField(absl::string_view field, absl::string_view message);

// Readers of the payloads; nullopt / empty when absent.
std::optional<int> GetCallsCode(const absl::Status& status);
std::string GetErrorField(const absl::Status& status);
std::string GetErrorHint(const absl::Status& status);

// Adds or replaces the hint of `status`.
absl::Status WithHint(absl::Status status, absl::string_view hint);

}  // namespace callsd

#endif  // CALLSD_COMMON_CALLS_ERROR_H_
