// Signing and checking of push payloads (wire.v1.PushPayload), shared by
// the server that sends them and the daemon that receives them.
#ifndef CALLSD_COMMON_PUSH_SIGNING_H_
#define CALLSD_COMMON_PUSH_SIGNING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "wire/v1/wire.pb.h"

namespace callsd {

// Largest payload either side accepts.
inline constexpr size_t kMaxPushPayloadBytes = 4096;

// The bytes the signature covers: the payload's JSON without `sig`.
std::string PushSigningInput(const wire::v1::PushPayload& payload);

// Sets payload->sig for `push_key`.
void SignPush(wire::v1::PushPayload* payload, absl::string_view push_key);

// OK when payload.sig is the signature of the rest under `push_key`
// (compared in constant time); PERMISSION_DENIED otherwise.
absl::Status VerifyPushSignature(const wire::v1::PushPayload& payload,
                                 absl::string_view push_key);

}  // namespace callsd

#endif  // CALLSD_COMMON_PUSH_SIGNING_H_
