// What the routers of calls-server's WebSocket (CallRouter for direct calls,
// RoomRouter for rooms) share: connection numbers, the sender they answer
// through, who is on a connection, and the form of answers and errors.
//
// Threading: the routers' sequence (see call_router.h).
#ifndef CALLSD_SERVER_CALLS_CONNECTION_H_
#define CALLSD_SERVER_CALLS_CONNECTION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "wire/v1/wire.pb.h"

namespace callsd::server {

// A WebSocket connection, numbered by the transport from 1; never reused
// within one run.
using ConnId = uint64_t;

// Where the routers' messages go.
class ConnectionSender {
 public:
  virtual ~ConnectionSender() = default;
  // Queues `message` on connection `conn` (one JSON text frame). Dropped
  // when the connection is gone or closing. Never calls back into a router.
  virtual void Send(ConnId conn, const wire::v1::WsMessage& message) = 0;
};

// Who is on an authenticated connection.
struct ConnectionInfo {
  std::string app_id;
  int64_t user_rowid = 0;
  std::string user_id;
  std::string nickname;
  std::string session_hash;  // SHA-256 hex of the session key
};

// A status carrying Calls code `code` (common/calls_error.h) and `message`,
// which the client sees.
absl::Status CodeError(int code, absl::string_view message);

// Sends `message` to `conn` as the answer to `request` (with its req_id).
void SendReply(ConnectionSender& sender, ConnId conn, wire::v1::WsMessage message,
               const wire::v1::WsMessage& request);

// Answers `request` with error {req_id, call_id, room_id, code, message}: the
// status's Calls code and message, or 500901 and a generic message (the
// status is logged) when it has no code, e.g. a store failure.
void SendErrorReply(ConnectionSender& sender, ConnId conn, const wire::v1::WsMessage& request,
                    const absl::Status& status);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_CALLS_CONNECTION_H_
