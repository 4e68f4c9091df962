#include "common/push_signing.h"

#include "absl/strings/escaping.h"
#include "common/crypto.h"
#include "common/wire_json.h"

namespace callsd {

std::string PushSigningInput(const wire::v1::PushPayload& payload) {
  wire::v1::PushPayload unsigned_copy = payload;
  unsigned_copy.clear_sig();
  return ToJson(unsigned_copy);
}

void SignPush(wire::v1::PushPayload* payload, absl::string_view push_key) {
  payload->set_sig(absl::WebSafeBase64Escape(HmacSha256(push_key, PushSigningInput(*payload))));
}

absl::Status VerifyPushSignature(const wire::v1::PushPayload& payload,
                                 absl::string_view push_key) {
  if (payload.sig().empty()) return absl::PermissionDeniedError("the push is not signed");
  if (push_key.empty()) {
    return absl::PermissionDeniedError("no push key to check the signature with (not logged in)");
  }
  const std::string expected =
      absl::WebSafeBase64Escape(HmacSha256(push_key, PushSigningInput(payload)));
  if (!ConstantTimeEquals(expected, payload.sig())) {
    return absl::PermissionDeniedError("the push signature does not match");
  }
  return absl::OkStatus();
}

}  // namespace callsd
