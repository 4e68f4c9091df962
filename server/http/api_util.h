// Helpers shared by the Api's handler files. Internal to server/http.
#ifndef CALLSD_SERVER_HTTP_API_UTIL_H_
#define CALLSD_SERVER_HTTP_API_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "common/calls_error.h"
#include "common/wire_json.h"
#include "google/protobuf/empty.pb.h"
#include "server/http/errors.h"
#include "server/http/http_types.h"
#include "server/store/store.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server {

// The request's JSON body as a T; an empty body is an empty object. Bad
// JSON or wrong types: 400100 with the parser's description.
template <typename T>
absl::StatusOr<T> ParseBody(const HttpRequest& request) {
  T message;
  if (absl::StripAsciiWhitespace(request.body).empty()) return message;
  absl::Status status = FromJson(request.body, &message);
  if (!status.ok()) return ApiError(kCodeInvalidParams, status.message());
  return message;
}

// "{}".
inline std::string EmptyJson() { return ToJson(google::protobuf::Empty()); }

// The wire form of a user (without access_token).
inline wire::v1::User ToWireUser(const UserRecord& record) {
  wire::v1::User user;
  user.set_user_id(record.user_id);
  user.set_nickname(record.nickname);
  user.set_created_at(record.created_at_ms);
  return user;
}

}  // namespace callsd::server

#endif  // CALLSD_SERVER_HTTP_API_UTIL_H_
