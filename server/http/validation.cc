#include "server/http/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/net_util.h"
#include "server/http/errors.h"

namespace callsd::server {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return ApiError(kCodeInvalidParams, absl::StrCat(field, ": ", problem));
}

absl::Status Missing(absl::string_view field) {
  return ApiError(kCodeMissingParams, absl::StrCat(field, " is required"));
}

// Length of the URL scheme prefix "http://" / "https://" (any case), or 0.
size_t SchemePrefixLength(absl::string_view url) {
  if (absl::StartsWithIgnoreCase(url, "http://")) return 7;
  if (absl::StartsWithIgnoreCase(url, "https://")) return 8;
  return 0;
}

}  // namespace

bool IsPrintableUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    uint32_t cp;
    int extra;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++p;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      extra = 2;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      extra = 3;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp >= 0x80 && cp <= 0x9f) return false;  // C1 controls
    p += extra + 1;
  }
  return true;
}

absl::Status ValidateUserId(absl::string_view field, absl::string_view user_id) {
  if (user_id.empty()) return Missing(field);
  if (user_id.size() > kMaxUserIdBytes) {
    return Invalid(field, absl::StrCat("longer than ", kMaxUserIdBytes, " bytes"));
  }
  if (!IsPrintableUtf8(user_id)) {
    return Invalid(field, "must be UTF-8 without control characters");
  }
  if (absl::StrContains(user_id, '/') || user_id == "." || user_id == "..") {
    return Invalid(field, "must not contain '/' nor be \".\" or \"..\"");
  }
  return absl::OkStatus();
}

absl::Status ValidateNickname(absl::string_view nickname) {
  if (nickname.size() > kMaxNicknameBytes) {
    return Invalid("nickname", absl::StrCat("longer than ", kMaxNicknameBytes, " bytes"));
  }
  if (!IsPrintableUtf8(nickname)) {
    return Invalid("nickname", "must be UTF-8 without control characters");
  }
  return absl::OkStatus();
}

absl::Status ValidatePushToken(absl::string_view token) {
  if (token.empty()) return Missing("token");
  if (token.size() > kMaxPushTokenBytes) {
    return Invalid("token", absl::StrCat(token.size(), " bytes is over the limit of ",
                                         kMaxPushTokenBytes));
  }
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Invalid("token", "must be printable ASCII (a URL)");
    }
  }
  const size_t prefix = SchemePrefixLength(token);
  if (prefix == 0) return Invalid("token", "must be an http:// or https:// URL");
  const absl::string_view rest = token.substr(prefix);
  if (rest.empty() || rest.front() == '/') return Invalid("token", "URL has no host");
  if (!ParseUrl(token).ok()) return Invalid("token", "is not a valid http or https URL");
  if (absl::StrContains(rest, "//") || absl::StrContains(rest, "/./") ||
      absl::StrContains(rest, "/../") || absl::EndsWith(rest, "/.") ||
      absl::EndsWith(rest, "/..")) {
    return Invalid("token", "URL must not contain \"//\" or \".\" / \"..\" segments after the host");
  }
  return absl::OkStatus();
}

std::string RestorePathDecodedPushToken(absl::string_view decoded) {
  for (absl::string_view scheme : {"http:/", "https:/"}) {
    if (absl::StartsWithIgnoreCase(decoded, scheme) &&
        (decoded.size() == scheme.size() || decoded[scheme.size()] != '/')) {
      return absl::StrCat(decoded.substr(0, scheme.size()), "/", decoded.substr(scheme.size()));
    }
  }
  return std::string(decoded);
}

}  // namespace callsd::server
