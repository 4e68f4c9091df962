// The fixed identities the fuzz targets check against, shared with the seed
// generator (make_seeds.cc) so that seeds are valid for the targets.
#ifndef CALLSD_TESTS_FUZZ_FUZZ_SEEDS_H_
#define CALLSD_TESTS_FUZZ_FUZZ_SEEDS_H_

#include <cstdint>

namespace callsd::fuzz {

inline constexpr char kPushApp[] = "com.example.kiosk";
inline constexpr char kPushUser[] = "alice";
// A test key, not a secret: it signs the seed corpus.
inline constexpr char kPushKey[] = "fuzz-push-key-0123456789abcdef0123456789";
// 2026-01-01T00:00:00Z: the daemon's clock in the push target.
inline constexpr int64_t kPushNowMillis = 1767225600000;

}  // namespace callsd::fuzz

#endif  // CALLSD_TESTS_FUZZ_FUZZ_SEEDS_H_
