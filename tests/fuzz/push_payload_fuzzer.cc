// Fuzz target: the push payload check (daemon/push/push_verifier.h), which
// sees bytes from any local process that can reach the push endpoint or
// DeliverPush. Property: every input gets an answer with one of the three
// documented codes and never crashes; an accepted payload is exactly one
// this daemon may ring for (version, type, app, user, signature, age).
// The seeds in corpus/push_payload are signed with kPushKey (see
// make_seeds.cc), so mutations reach the checks after the signature.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/push_signing.h"
#include "daemon/push/push_verifier.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using callsd::fuzz::kPushApp;
  using callsd::fuzz::kPushKey;
  using callsd::fuzz::kPushNowMillis;
  using callsd::fuzz::kPushUser;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  callsd::daemon::PushContext context;
  context.app_id = kPushApp;
  context.user_id = kPushUser;
  context.push_key = kPushKey;
  context.now = absl::FromUnixMillis(kPushNowMillis);

  absl::StatusOr<callsd::wire::v1::PushPayload> verdict = callsd::daemon::VerifyPush(bytes, context);
  if (!verdict.ok()) {
    const absl::StatusCode code = verdict.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
                   code == absl::StatusCode::kFailedPrecondition ||
                   code == absl::StatusCode::kPermissionDenied,
               verdict.status().ToString());
    FUZZ_CHECK(!verdict.status().message().empty(), "an error without a reason");
  } else {
    const callsd::wire::v1::PushPayload& p = *verdict;
    FUZZ_CHECK(size <= callsd::kMaxPushPayloadBytes, "accepted an oversized payload");
    FUZZ_CHECK(p.v() == 1, "accepted another version");
    FUZZ_CHECK(p.app_id() == kPushApp && p.user_id() == kPushUser, "accepted another app/user");
    FUZZ_CHECK(callsd::VerifyPushSignature(p, kPushKey).ok(), "accepted a bad signature");
    const absl::Time sent = absl::FromUnixMillis(p.sent_at());
    FUZZ_CHECK(sent <= context.now + context.max_clock_skew, "accepted a push from the future");
    FUZZ_CHECK(context.now - sent <= absl::Seconds(p.ttl_s()), "accepted a stale push");
  }

  // Nobody logged in: nothing may pass, whatever the bytes.
  context.push_key.clear();
  FUZZ_CHECK(!callsd::daemon::VerifyPush(bytes, context).ok(), "accepted without a push key");
  return 0;
}
