#include "daemon/rpc/validation.h"

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/net_util.h"
#include "google/protobuf/stubs/common.h"

namespace callsd::daemon::rpc {
namespace {

bool IsValidUtf8(absl::string_view s) {
  return google::protobuf::internal::IsStructurallyValidUTF8(s.data(), static_cast<int>(s.size()));
}

}  // namespace

absl::Status ValidateText(absl::string_view field, absl::string_view value, size_t max_bytes) {
  if (value.empty()) return InvalidField(field, "must not be empty");
  if (value.size() > max_bytes) {
    return InvalidField(field, absl::StrCat("is ", value.size(), " bytes; at most ", max_bytes,
                                            " are allowed"));
  }
  if (!IsValidUtf8(value)) return InvalidField(field, "is not valid UTF-8");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return InvalidField(field, "contains a control character");
  }
  return absl::OkStatus();
}

absl::Status ValidateToken(absl::string_view field, absl::string_view value) {
  if (absl::Status s = ValidateText(field, value, kMaxTokenBytes); !s.ok()) return s;
  for (unsigned char c : value) {
    if (c == ' ') return InvalidField(field, "contains whitespace");
  }
  return absl::OkStatus();
}

absl::Status Validate(const callsd::v1::InitRequest& request) {
  return ValidateText("app_id", request.app_id(), kMaxIdBytes);
}

absl::Status Validate(const callsd::v1::AuthenticateRequest& request) {
  if (absl::Status s = ValidateText("user_id", request.user_id(), kMaxIdBytes); !s.ok()) return s;
  if (request.token_kind() != callsd::v1::TOKEN_KIND_ACCESS_TOKEN &&
      request.token_kind() != callsd::v1::TOKEN_KIND_SESSION_TOKEN) {
    return InvalidField("token_kind",
                        absl::StrCat("must be TOKEN_KIND_ACCESS_TOKEN or "
                                     "TOKEN_KIND_SESSION_TOKEN, got ",
                                     request.token_kind()));
  }
  return ValidateToken("token", request.token());
}

absl::Status Validate(const callsd::v1::RefreshSessionTokenRequest& request) {
  return ValidateToken("token", request.token());
}

namespace {

absl::Status ValidateType(callsd::v1::PushTokenType type) {
  if (type != callsd::v1::PUSH_TOKEN_TYPE_VOIP && type != callsd::v1::PUSH_TOKEN_TYPE_REMOTE) {
    return InvalidField("type", absl::StrCat("must be PUSH_TOKEN_TYPE_VOIP or "
                                             "PUSH_TOKEN_TYPE_REMOTE, got ",
                                             static_cast<int>(type)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePushToken(absl::string_view token) {
  if (absl::Status s = ValidateText("token", token, kMaxPushTokenBytes); !s.ok()) return s;
  absl::StatusOr<Url> url = ParseUrl(token);
  if (!url.ok()) {
    return InvalidField("token", absl::StrCat("is not an endpoint URL: ", url.status().message()));
  }
  if (url->scheme != "http" && url->scheme != "https") {
    return InvalidField("token", "must be an http:// or https:// URL");
  }
  return absl::OkStatus();
}

absl::Status Validate(const callsd::v1::RegisterPushTokenRequest& request) {
  if (absl::Status s = ValidateType(request.type()); !s.ok()) return s;
  return ValidatePushToken(request.token());
}

absl::Status Validate(const callsd::v1::UnregisterPushTokenRequest& request) {
  if (absl::Status s = ValidateType(request.type()); !s.ok()) return s;
  return ValidatePushToken(request.token());
}

absl::Status Validate(const callsd::v1::UnregisterAllPushTokensRequest& request) {
  return ValidateType(request.type());
}

absl::Status Validate(const callsd::v1::DialRequest& request) {
  return ValidateText("callee_id", request.callee_id(), kMaxIdBytes);
}
absl::Status Validate(const callsd::v1::AcceptRequest& request) {
  return ValidateText("call_id", request.call_id(), kMaxCallIdBytes);
}
absl::Status Validate(const callsd::v1::DeclineRequest& request) {
  return ValidateText("call_id", request.call_id(), kMaxCallIdBytes);
}
absl::Status Validate(const callsd::v1::EndRequest& request) {
  return ValidateText("call_id", request.call_id(), kMaxCallIdBytes);
}
absl::Status Validate(const callsd::v1::SetMutedRequest& request) {
  return ValidateText("call_id", request.call_id(), kMaxCallIdBytes);
}
absl::Status Validate(const callsd::v1::GetCallHistoryRequest& request) {
  if (request.limit() < 0 || request.limit() > 100) {
    return InvalidField("limit", absl::StrCat("must be 1..100 (0: 20), got ", request.limit()));
  }
  if (request.next().size() > 1024) return InvalidField("next", "is longer than 1024 bytes");
  return absl::OkStatus();
}
absl::Status Validate(const callsd::v1::DeliverPushRequest& request) {
  if (request.payload().empty()) return InvalidField("payload", "must not be empty");
  if (request.payload().size() > 4096) {
    return InvalidField("payload", absl::StrCat("is ", request.payload().size(),
                                                " bytes; a push payload is at most 4096"));
  }
  return absl::OkStatus();
}


absl::Status Validate(const callsd::v1::CreateRoomRequest& request) {
  if (!callsd::v1::RoomType_IsValid(request.type())) {
    return InvalidField("type", absl::StrCat("must be ROOM_TYPE_SMALL or ROOM_TYPE_LARGE, got ",
                                             static_cast<int>(request.type())));
  }
  return absl::OkStatus();
}
absl::Status Validate(const callsd::v1::EnterRoomRequest& request) {
  return ValidateText("room_id", request.room_id(), kMaxIdBytes);
}
absl::Status Validate(const callsd::v1::ExitRoomRequest& request) {
  return ValidateText("room_id", request.room_id(), kMaxIdBytes);
}
absl::Status Validate(const callsd::v1::SetRoomMutedRequest& request) {
  return ValidateText("room_id", request.room_id(), kMaxIdBytes);
}
absl::Status Validate(const callsd::v1::DeleteRoomRequest& request) {
  return ValidateText("room_id", request.room_id(), kMaxIdBytes);
}
absl::Status Validate(const callsd::v1::GetRoomRequest& request) {
  return ValidateText("room_id", request.room_id(), kMaxIdBytes);
}

}  // namespace callsd::daemon::rpc
