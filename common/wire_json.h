// JSON <-> protobuf for the wire protocol, through protobuf's JSON mapping
// (snake_case names). No JSON is written by hand anywhere in the project.
#ifndef CALLSD_COMMON_WIRE_JSON_H_
#define CALLSD_COMMON_WIRE_JSON_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace callsd {

// Largest JSON body either side accepts.
inline constexpr size_t kMaxJsonBytes = 1 << 20;

// Serialises `message` with snake_case field names; fields at their default
// value are left out.
std::string ToJson(const google::protobuf::Message& message);

// Parses `json` into `out` (cleared first). Unknown fields are ignored.
// INVALID_ARGUMENT naming the problem for malformed JSON, wrong types or a
// body over kMaxJsonBytes.
absl::Status FromJson(absl::string_view json, google::protobuf::Message* out);

template <typename T>
absl::StatusOr<T> ParseJson(absl::string_view json) {
  T message;
  absl::Status status = FromJson(json, &message);
  if (!status.ok()) return status;
  return message;
}

// Server error body: {"error": true, "code": <code>, "message": "..."}.
std::string ErrorJson(int code, absl::string_view message);

}  // namespace callsd

#endif  // CALLSD_COMMON_WIRE_JSON_H_
