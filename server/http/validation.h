// Validation of request fields. Every failure is an ApiError: 400111 when a
// required field is missing (empty), 400100 naming the field otherwise.
// Messages never repeat a token.
#ifndef CALLSD_SERVER_HTTP_VALIDATION_H_
#define CALLSD_SERVER_HTTP_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace callsd::server {

inline constexpr size_t kMaxUserIdBytes = 256;
inline constexpr size_t kMaxNicknameBytes = 256;
inline constexpr size_t kMaxPushTokenBytes = 1000;

// True when `text` is valid UTF-8 without control characters (C0, DEL, C1).
bool IsPrintableUtf8(absl::string_view text);

// A user ID: 1..256 bytes of printable UTF-8. Because user IDs travel in URL
// paths and the HTTP layer decodes and normalises paths, a user ID also must
// not contain '/' and must not be "." or "..".
absl::Status ValidateUserId(absl::string_view field, absl::string_view user_id);

// A nickname: 0..256 bytes of printable UTF-8.
absl::Status ValidateNickname(absl::string_view nickname);

// A push token: an absolute http or https URL of at most 1000 bytes of
// printable ASCII. So that it survives a trip through a URL path (DELETE
// /v1/push/{type}/{token}), everything after "scheme://" must not contain
// "//" nor "." or ".." segments.
absl::Status ValidatePushToken(absl::string_view token);

// The push token that a client sent percent-encoded in a URL path, after the
// HTTP layer has decoded it and collapsed "//" into "/": turns a leading
// "http:/x" or "https:/x" back into "http://x" / "https://x". Anything else
// is returned unchanged.
std::string RestorePathDecodedPushToken(absl::string_view decoded);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_HTTP_VALIDATION_H_
