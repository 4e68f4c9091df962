// Small facts about addresses and URLs.
#ifndef CALLSD_COMMON_NET_UTIL_H_
#define CALLSD_COMMON_NET_UTIL_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace callsd {

// True for "localhost", 127.0.0.0/8 and ::1 (with or without brackets).
bool IsLoopbackHost(absl::string_view host);

struct Url {
  bool tls = false;     // https or wss
  std::string scheme;   // "http", "https", "ws", "wss"
  std::string host;     // without brackets
  int port = 0;         // the scheme's default when the URL has none
  std::string path;     // starts with '/'; "/" when the URL has none
};

// Parses an absolute http(s)/ws(s) URL. INVALID_ARGUMENT naming what is
// wrong (scheme, host, port) otherwise.
absl::StatusOr<Url> ParseUrl(absl::string_view url);

}  // namespace callsd

#endif  // CALLSD_COMMON_NET_UTIL_H_
