// Reading a token for callsctl: from a file or from standard input, never
// from the command line, never printed.
#ifndef CALLSD_CLIENT_LIB_CALLSCTL_TOKEN_H_
#define CALLSD_CLIENT_LIB_CALLSCTL_TOKEN_H_

#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "client-lib/callsctl/args.h"

namespace callsd::ctl {

// Tokens are short; a longer input is a mistake (e.g. the wrong file).
inline constexpr size_t kMaxTokenBytes = 64 * 1024;

// Reads the token from `source.file`, or from `in` when
// `source.from_stdin`, and strips trailing whitespace (newlines, spaces,
// tabs, carriage returns). Errors (the message names the source, never the
// token's content):
//   NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION  the file cannot be read;
//   INVALID_ARGUMENT  the token is empty or longer than kMaxTokenBytes.
absl::StatusOr<std::string> ReadToken(const TokenSource& source, std::istream& in);

}  // namespace callsd::ctl

#endif  // CALLSD_CLIENT_LIB_CALLSCTL_TOKEN_H_
