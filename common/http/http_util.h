// Pure helpers of the HTTP client: request checks and error wording.
// No I/O; unit-tested on their own.
#ifndef CALLSD_COMMON_HTTP_HTTP_UTIL_H_
#define CALLSD_COMMON_HTTP_HTTP_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/http/http_client.h"
#include "common/net_util.h"

namespace callsd {

// Largest total size of the caller's request headers (names and values).
inline constexpr size_t kMaxRequestHeaderBytes = 8192;
// Longest accepted request timeout.
inline constexpr absl::Duration kMaxRequestTimeout = absl::Hours(1);

// Checks `request` before anything is sent and fills `*url`. OK, or
// INVALID_ARGUMENT naming the problem: a method other than GET, POST, PUT
// and DELETE; a URL that does not parse or is not http(s); plain http to a
// host that is not loopback unless `allow_insecure_http`; a header name
// that is not an HTTP token or is one the client sets itself (Host,
// Content-Length, Transfer-Encoding, Connection, User-Agent); a header
// value with CR, LF or NUL; headers over kMaxRequestHeaderBytes; a timeout
// that is not positive or is over kMaxRequestTimeout. Messages never
// contain header values.
absl::Status CheckRequest(const HttpRequest& request, bool allow_insecure_http, Url* url);

// "host:port" as it belongs in a Host header: the port only when it is not
// the scheme's default, IPv6 literals in brackets.
std::string HostHeader(const Url& url);

// `path` fit for a log line: without its query, and with every segment
// longer than 24 bytes (a token, a push endpoint) replaced by "<N bytes>".
std::string LoggablePath(absl::string_view path);

// UNAVAILABLE for an lws client connection error: says whether DNS, the TCP
// connection, or the TLS handshake / certificate verification failed, with
// lws's own reason text. `cert_error`: OpenSSL's verification error, when
// it rejected the server's certificate (lws's text does not say so).
absl::Status ConnectionFailure(const Url& url, absl::string_view lws_reason,
                               absl::string_view cert_error = {});

// UNAVAILABLE for lws_client_connect_via_info() returning no connection
// without a reason (lws 4.1 does that when DNS fails): resolves the host
// again (blocking, like lws) to tell a DNS failure from anything else.
absl::Status ConnectStartFailure(const Url& url);

}  // namespace callsd

#endif  // CALLSD_COMMON_HTTP_HTTP_UTIL_H_
