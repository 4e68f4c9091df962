// absl::Status (with Calls payloads) <-> grpc::Status with a callsd.v1.RpcStatus
// (wire-compatible with google.rpc.Status) holding one callsd.v1.ErrorInfo.
#ifndef CALLSD_DAEMON_RPC_STATUS_CONVERSION_H_
#define CALLSD_DAEMON_RPC_STATUS_CONVERSION_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "callsd/v1/callsd.pb.h"

namespace callsd::daemon::rpc {

// The ErrorInfo a status carries (Calls code, field, hint). `tier` is set
// for PERMISSION_DENIED from the access check.
callsd::v1::ErrorInfo ToErrorInfo(const absl::Status& status, absl::string_view tier = {});

// A failed status becomes a grpc::Status with the same code and message and
// the ErrorInfo in its details; OK stays OK.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view tier = {});

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_STATUS_CONVERSION_H_
