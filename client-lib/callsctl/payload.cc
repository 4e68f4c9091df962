#include "client-lib/callsctl/payload.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace callsd::ctl {

absl::StatusOr<std::string> ReadPushPayload(std::istream& in) {
  std::string data;
  char buf[4096];
  // One byte more than allowed tells "too long" from "exactly the limit".
  while (data.size() <= kMaxPushInputBytes) {
    const size_t want = std::min(sizeof(buf), kMaxPushInputBytes + 1 - data.size());
    in.read(buf, static_cast<std::streamsize>(want));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    data.append(buf, static_cast<size_t>(got));
  }
  if (data.size() > kMaxPushInputBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the payload on standard input is longer than ", kMaxPushInputBytes,
        " bytes (a push payload is at most ", kMaxPushPayloadBytes, " bytes); nothing was sent"));
  }
  absl::StripTrailingAsciiWhitespace(&data);
  if (data.empty()) {
    return absl::InvalidArgumentError(
        "the payload on standard input is empty (pipe the push payload into callsctl push "
        "deliver)");
  }
  return data;
}

}  // namespace callsd::ctl
