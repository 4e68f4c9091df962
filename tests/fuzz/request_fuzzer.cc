// Fuzz target: the daemon's request checks (daemon/rpc/request_decoding.h,
// validation.h), the path every RPC takes from wire bytes to the domain.
// The first byte picks the method (as the gRPC route would), the rest is
// the request's bytes. Properties: no crash; a refusal is INVALID_ARGUMENT
// with a reason; a decoded request survives serialising and decoding again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "callsd/v1/callsd.pb.h"
#include "daemon/rpc/request_decoding.h"
#include "daemon/rpc/validation.h"
#include "google/protobuf/descriptor.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace v1 = callsd::v1;
using callsd::daemon::rpc::DecodeRequest;

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, status.ToString());
  FUZZ_CHECK(!status.message().empty(), "a refusal without a reason");
}

// Decode, then (for unary methods) validate, as CallsService::Unary does.
template <typename Req, bool kValidated = true>
void Check(absl::string_view bytes) {
  Req request;
  absl::Status status = DecodeRequest(bytes, &request);
  if (!status.ok()) return CheckRefusal(status);
  Req again;
  const absl::Status redecoded = DecodeRequest(request.SerializeAsString(), &again);
  FUZZ_CHECK(redecoded.ok(), redecoded.ToString());
  if constexpr (kValidated) {
    status = callsd::daemon::rpc::Validate(request);
    if (!status.ok()) return CheckRefusal(status);
  }
}

struct Method {
  void (*check)(absl::string_view bytes);
  const google::protobuf::Descriptor* (*request_type)();
};
template <typename Req, bool kValidated = true>
constexpr Method M() {
  return {&Check<Req, kValidated>, &Req::descriptor};
}

// Every method of callsd.v1.Calls, in the .proto's order (Methods() checks
// that against the service, so that the seeds' first bytes stay right).
constexpr Method kMethods[] = {
    M<v1::InitRequest>(),
    M<v1::AuthenticateRequest>(),
    M<v1::DeauthenticateRequest>(),
    M<v1::RefreshSessionTokenRequest>(),
    M<v1::GetStateRequest>(),
    M<v1::WatchEventsRequest, false>(),  // decoded only: nothing to validate
    M<v1::RegisterPushTokenRequest>(),
    M<v1::UnregisterPushTokenRequest>(),
    M<v1::UnregisterAllPushTokensRequest>(),
    M<v1::ListPushTokensRequest>(),
    M<v1::DialRequest>(),
    M<v1::AcceptRequest>(),
    M<v1::DeclineRequest>(),
    M<v1::EndRequest>(),
    M<v1::SetMutedRequest>(),
    M<v1::ListCallsRequest>(),
    M<v1::GetCallHistoryRequest>(),
    M<v1::DeliverPushRequest>(),
    M<v1::CreateRoomRequest>(),
    M<v1::EnterRoomRequest>(),
    M<v1::ExitRoomRequest>(),
    M<v1::SetRoomMutedRequest>(),
    M<v1::DeleteRoomRequest>(),
    M<v1::GetRoomRequest>(),
    M<v1::ListRoomsRequest>(),
};
constexpr size_t kMethodCount = sizeof(kMethods) / sizeof(kMethods[0]);

bool TableMatchesService() {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("callsd.v1.Calls");
  FUZZ_CHECK(service != nullptr, "callsd.v1.Calls not linked in");
  FUZZ_CHECK(static_cast<size_t>(service->method_count()) == kMethodCount,
             "a method was added to callsd.v1.Calls: add it to kMethods");
  for (size_t i = 0; i < kMethodCount; ++i) {
    FUZZ_CHECK(service->method(static_cast<int>(i))->input_type() == kMethods[i].request_type(),
               service->method(static_cast<int>(i))->full_name());
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool table_ok = TableMatchesService();
  (void)table_ok;
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  kMethods[data[0] % kMethodCount].check(bytes);
  return 0;
}
