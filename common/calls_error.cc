#include "common/calls_error.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/cord.h"

namespace callsd {
namespace {

constexpr absl::string_view kCodeUrl = "callsd/calls_code";
constexpr absl::string_view kFieldUrl = "callsd/field";
constexpr absl::string_view kHintUrl = "callsd/hint";

}  // namespace

absl::StatusCode StatusCodeForServerCode(int calls_code) {
  switch (calls_code) {
    case kCodeInvalidParams:
    case kCodeMissingParams:
    case kCodeDialMyself:
      return absl::StatusCode::kInvalidArgument;
    case kCodeNotFound:
    case kCodeCallDoesNotExist:
    case kCodeCalleeDoesNotExist:
      return absl::StatusCode::kNotFound;
    case kCodeInvalidAccessToken:
    case kCodeSessionKeyExpired:
    case kCodeSessionTokenRevoked:
      return absl::StatusCode::kUnauthenticated;
    case kCodeNotAllowed:
      return absl::StatusCode::kPermissionDenied;
    case kCodeInvalidCallStatus:
    case kCodeCalleeNeverAuthenticated:
      return absl::StatusCode::kFailedPrecondition;
    case kCodeNotInitialized:
      return absl::StatusCode::kFailedPrecondition;
    case kCodeNotAuthenticated:
      return absl::StatusCode::kUnauthenticated;
    default:
      if (calls_code >= 500000 && calls_code < 600000) return absl::StatusCode::kUnavailable;
      return absl::StatusCode::kFailedPrecondition;
  }
}

absl::Status CallsError(absl::StatusCode code, int calls_code, absl::string_view message,
                        absl::string_view field, absl::string_view hint) {
  absl::Status status(code, message);
  if (calls_code != 0) status.SetPayload(kCodeUrl, absl::Cord(absl::StrCat(calls_code)));
  if (!field.empty()) status.SetPayload(kFieldUrl, absl::Cord(field));
  if (!hint.empty()) status.SetPayload(kHintUrl, absl::Cord(hint));
  return status;
}

absl::Status InvalidField(absl::string_view field, absl::string_view message) {
  return CallsError(absl::StatusCode::kInvalidArgument, 0, absl::StrCat(field, ": ", message),
                    field);
}

std::optional<int> GetCallsCode(const absl::Status& status) {
  auto payload = status.GetPayload(kCodeUrl);
  int code = 0;
  if (!payload || !absl::SimpleAtoi(std::string(payload->Flatten()), &code)) return std::nullopt;
  return code;
}

std::string GetErrorField(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldUrl);
  return payload ? std::string(payload->Flatten()) : std::string();
}

std::string GetErrorHint(const absl::Status& status) {
  auto payload = status.GetPayload(kHintUrl);
  return payload ? std::string(payload->Flatten()) : std::string();
}

absl::Status WithHint(absl::Status status, absl::string_view hint) {
  if (!status.ok()) status.SetPayload(kHintUrl, absl::Cord(hint));
  return status;
}

}  // namespace callsd
