// Randomness, hashing and signatures through OpenSSL.
#ifndef CALLSD_COMMON_CRYPTO_H_
#define CALLSD_COMMON_CRYPTO_H_

#include <string>
#include "absl/strings/string_view.h"

namespace callsd {

// `n` bytes from OpenSSL's CSPRNG. Aborts if the CSPRNG fails (never
// returns weak bytes).
std::string RandomBytes(size_t n);

// A random token of `n` bytes of entropy, URL-safe base64 without padding.
std::string RandomToken(size_t n = 32);

// A random identifier (call id, room id) of `n` bytes of entropy, URL-safe
// base64 that starts with a letter or digit: ids are typed on command
// lines, where a leading '-' reads as an option.
std::string RandomId(size_t n);

// Lower-case hex SHA-256 of `data`: how tokens and keys are stored.
std::string Sha256Hex(absl::string_view data);

// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// Comparison whose time does not depend on where the inputs differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace callsd

#endif  // CALLSD_COMMON_CRYPTO_H_
