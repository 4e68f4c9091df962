#include "daemon/rpc/status_conversion.h"

#include <string>

#include "common/calls_error.h"

namespace callsd::daemon::rpc {

callsd::v1::ErrorInfo ToErrorInfo(const absl::Status& status, absl::string_view tier) {
  callsd::v1::ErrorInfo info;
  info.set_calls_code(GetCallsCode(status).value_or(0));
  info.set_message(std::string(status.message()));
  info.set_field(GetErrorField(status));
  info.set_tier(std::string(tier));
  info.set_hint(GetErrorHint(status));
  return info;
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view tier) {
  if (status.ok()) return grpc::Status::OK;
  callsd::v1::RpcStatus rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(status.message()));
  rich.add_details()->PackFrom(ToErrorInfo(status, tier));
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rich.SerializeAsString());
}

}  // namespace callsd::daemon::rpc
