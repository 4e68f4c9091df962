// Calls errors on the server side: a Status carrying a Calls code, and its
// HTTP answer {"error": true, "code": N, "message": "..."}.
#ifndef CALLSD_SERVER_HTTP_ERRORS_H_
#define CALLSD_SERVER_HTTP_ERRORS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/http/http_types.h"

namespace callsd::server {

// A status with Calls code `calls_code` (common/calls_error.h) and `message`
// (shown to the client: never put a secret in it).
absl::Status ApiError(int calls_code, absl::string_view message);

// The HTTP status of a Calls code: 400 for 400xxx and 1400xxx, 401 for
// 401xxx, 500 for 500xxx and anything unknown.
int HttpStatusForCode(int calls_code);

// An error answer with an explicit HTTP status.
HttpResponse ErrorResponse(int http_status, int calls_code, absl::string_view message);

// The answer for a failed handler: a status made by ApiError keeps its code
// and message; any other status (a store failure) is logged and answered 500
// with code 500901 and a generic message.
HttpResponse ErrorResponse(const absl::Status& status);

// 413 with code 400100, for a body of `size` bytes over `limit`.
HttpResponse BodyTooLargeResponse(size_t size, size_t limit);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_HTTP_ERRORS_H_
