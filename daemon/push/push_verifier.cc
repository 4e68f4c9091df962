#include "daemon/push/push_verifier.h"

#include "absl/strings/str_cat.h"
#include "common/push_signing.h"
#include "common/wire_json.h"
#include "google/protobuf/stubs/common.h"

namespace callsd::daemon {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("push rejected: ", why));
}
absl::Status Mismatch(absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("push rejected: ", why));
}

bool KnownType(const std::string& type) {
  return type == "call.ringing" || type == "call.canceled" || type == "call.missed";
}

}  // namespace

absl::StatusOr<wire::v1::PushPayload> VerifyPush(absl::string_view bytes,
                                                 const PushContext& context) {
  if (bytes.size() > kMaxPushPayloadBytes) {
    return Invalid(absl::StrCat("payload of ", bytes.size(), " bytes is over the limit of ",
                                kMaxPushPayloadBytes));
  }
  if (!google::protobuf::internal::IsStructurallyValidUTF8(bytes.data(),
                                                           static_cast<int>(bytes.size()))) {
    return Invalid("payload is not UTF-8 text");
  }
  wire::v1::PushPayload payload;
  if (absl::Status parsed = FromJson(bytes, &payload); !parsed.ok()) {
    return Invalid(parsed.message());
  }
  if (payload.v() != 1) return Invalid(absl::StrCat("unsupported version v=", payload.v()));
  if (!KnownType(payload.type())) {
    return Invalid(absl::StrCat("unknown type \"", payload.type().substr(0, 64), "\""));
  }
  if (payload.call_id().empty() || payload.call_id().size() > 128) {
    return Invalid("call_id missing or longer than 128 bytes");
  }
  if (payload.ttl_s() <= 0 || payload.ttl_s() > 3600) {
    return Invalid(absl::StrCat("ttl_s must be 1..3600, got ", payload.ttl_s()));
  }
  if (payload.sent_at() <= 0) return Invalid("sent_at missing");
  if (context.push_key.empty()) return Mismatch("nobody is logged in on this daemon");
  if (payload.app_id() != context.app_id) {
    return Mismatch(absl::StrCat("for app \"", payload.app_id().substr(0, 64),
                                 "\", this daemon serves \"", context.app_id, "\""));
  }
  if (payload.user_id() != context.user_id) {
    return Mismatch(absl::StrCat("for user \"", payload.user_id().substr(0, 64),
                                 "\", this daemon's user is \"", context.user_id, "\""));
  }
  if (absl::Status signed_ok = VerifyPushSignature(payload, context.push_key); !signed_ok.ok()) {
    return absl::PermissionDeniedError(absl::StrCat("push rejected: ", signed_ok.message()));
  }
  const absl::Time sent = absl::FromUnixMillis(payload.sent_at());
  if (sent > context.now + context.max_clock_skew) {
    return Mismatch(absl::StrCat("sent ", absl::FormatDuration(sent - context.now),
                                 " in the future"));
  }
  if (context.now - sent > absl::Seconds(payload.ttl_s())) {
    return Mismatch(absl::StrCat("stale: sent ",
                                 absl::ToInt64Seconds(context.now - sent), " s ago, ttl ",
                                 payload.ttl_s(), " s"));
  }
  return payload;
}

}  // namespace callsd::daemon
