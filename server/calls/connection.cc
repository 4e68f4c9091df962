#include "server/calls/connection.h"

#include <optional>
#include <utility>

#include "common/calls_error.h"
#include "glog/logging.h"

namespace callsd::server {

absl::Status CodeError(int code, absl::string_view message) {
  return CallsError(StatusCodeForServerCode(code), code, message);
}

void SendReply(ConnectionSender& sender, ConnId conn, wire::v1::WsMessage message,
               const wire::v1::WsMessage& request) {
  if (!request.req_id().empty()) message.set_req_id(request.req_id());
  sender.Send(conn, message);
}

void SendErrorReply(ConnectionSender& sender, ConnId conn, const wire::v1::WsMessage& request,
                    const absl::Status& status) {
  wire::v1::WsMessage error;
  error.set_type("error");
  error.set_call_id(request.call_id());
  error.set_room_id(request.room_id());
  std::optional<int> code = GetCallsCode(status);
  if (code) {
    error.set_code(*code);
    error.set_message(std::string(status.message()));
  } else {
    LOG(ERROR) << request.type().substr(0, 64) << " failed: " << status;
    error.set_code(kCodeInternal);
    error.set_message("internal server error");
  }
  VLOG(1) << "connection " << conn << ": " << request.type().substr(0, 64) << " -> error "
          << error.code();
  SendReply(sender, conn, std::move(error), request);
}

}  // namespace callsd::server
