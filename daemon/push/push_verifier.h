// Checks a push payload before it may make anything ring (DESIGN.md
// "Push"): size, JSON shape, app, user, signature with the user's push key,
// and age. Pure: no I/O, no clock of its own (fuzzed in tests/fuzz).
#ifndef CALLSD_DAEMON_PUSH_PUSH_VERIFIER_H_
#define CALLSD_DAEMON_PUSH_PUSH_VERIFIER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {

struct PushContext {
  std::string app_id;
  std::string user_id;
  // Raw key from the last authentication; empty when nobody is logged in.
  std::string push_key;
  absl::Time now;
  // How far ahead of `now` a sent_at may be (clocks differ a little).
  absl::Duration max_clock_skew = absl::Seconds(60);
};

// The payload when it may be acted on. Otherwise, with the reason:
//   INVALID_ARGUMENT     not JSON, too large, missing or bad fields;
//   FAILED_PRECONDITION  another app or user, stale, from the future, or
//                        nobody logged in;
//   PERMISSION_DENIED    missing or wrong signature (forged or altered).
absl::StatusOr<wire::v1::PushPayload> VerifyPush(absl::string_view bytes,
                                                 const PushContext& context);

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_PUSH_PUSH_VERIFIER_H_
