// Decoding of client requests from their wire bytes, so that a malformed
// request gets INVALID_ARGUMENT naming what is wrong instead of gRPC's bare
// parse failure (which the callback API reports as UNIMPLEMENTED). No gRPC.
#ifndef CALLSD_DAEMON_RPC_REQUEST_DECODING_H_
#define CALLSD_DAEMON_RPC_REQUEST_DECODING_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace callsd::daemon::rpc {

// Largest request the daemon reads.
inline constexpr size_t kMaxRequestBytes = 64 * 1024;

// Parses `bytes` into `out`. INVALID_ARGUMENT: "user_id: is not valid
// UTF-8" (the field named, nested fields as "a.b") for text that is not
// UTF-8; "malformed request" for bytes that are not a protobuf message;
// a size error over kMaxRequestBytes.
absl::Status DecodeRequest(absl::string_view bytes, google::protobuf::Message* out);

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_REQUEST_DECODING_H_
