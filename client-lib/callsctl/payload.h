// Reading a push payload for `callsctl push deliver`: from standard input,
// bounded, never echoed.
#ifndef CALLSD_CLIENT_LIB_CALLSCTL_PAYLOAD_H_
#define CALLSD_CLIENT_LIB_CALLSCTL_PAYLOAD_H_

#include <cstddef>
#include <istream>
#include <string>

#include "absl/status/statusor.h"

namespace callsd::ctl {

// A push payload is at most this long (DESIGN.md "Push"); the daemon
// enforces it and gives the reason.
inline constexpr size_t kMaxPushPayloadBytes = 4096;
// What callsctl itself accepts on standard input: the payload plus a margin
// (trailing newlines, a distributor's envelope whitespace), so that the
// daemon, not callsctl, judges a payload near the limit. More than this is
// surely not a push payload (the wrong file, a stream): it is refused
// without being read to the end.
inline constexpr size_t kPushPayloadMargin = 1024;
inline constexpr size_t kMaxPushInputBytes = kMaxPushPayloadBytes + kPushPayloadMargin;

// Reads the payload from `in`: at most kMaxPushInputBytes + 1 bytes are
// read. Trailing ASCII whitespace (insignificant after a JSON value) is
// dropped; everything else is passed on as is. Errors (INVALID_ARGUMENT; the
// message never contains the payload): the input is longer than
// kMaxPushInputBytes, or empty (or only whitespace).
absl::StatusOr<std::string> ReadPushPayload(std::istream& in);

}  // namespace callsd::ctl

#endif  // CALLSD_CLIENT_LIB_CALLSCTL_PAYLOAD_H_
