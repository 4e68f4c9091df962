// HttpClient: asynchronous HTTP/1.1 requests, one response each.
//
// Used by the daemon (REST calls to the calls server) and by the server
// (pushes to endpoint URLs). The real implementation is LwsHttpClient
// (lws_http_client.h); tests of its users inject a fake.
#ifndef CALLSD_COMMON_HTTP_HTTP_CLIENT_H_
#define CALLSD_COMMON_HTTP_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace callsd {

struct HttpRequest {
  // "GET", "POST", "PUT" or "DELETE".
  std::string method;
  // Absolute http:// or https:// URL, with an optional query.
  std::string url;
  // Extra request headers, sent in this order. The client sets Host,
  // Content-Length and User-Agent itself; values are never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  // Sent with Content-Length (never chunked). May be empty, for any method.
  std::string body;
  // From the call to Send() to the complete response. Positive, finite.
  absl::Duration timeout = absl::Seconds(30);
};

struct HttpResponse {
  int status = 0;
  std::string body;
  // The Content-Type header, empty when the server sent none.
  std::string content_type;
};

class HttpClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>) &&>;

  virtual ~HttpClient() = default;

  // Sends `request`; `done` runs exactly once, never inline from Send(), on
  // a thread of the implementation (it must be quick: post the result to
  // where it belongs). Thread-safe.
  //
  // Outcomes:
  //   OK                 a complete response, whatever its HTTP status
  //                      (4xx and 5xx included);
  //   INVALID_ARGUMENT   the request is malformed (method, URL, header), or
  //                      plain http to a host that is not loopback while
  //                      the implementation does not allow it; nothing was
  //                      sent;
  //   UNAVAILABLE        DNS, connection, TLS handshake or certificate
  //                      failure, a connection closed before the response
  //                      was complete, a response over the size limit, or
  //                      the client shutting down (the message says which);
  //   DEADLINE_EXCEEDED  no complete response within `request.timeout`.
  virtual void Send(HttpRequest request, Callback done) = 0;
};

}  // namespace callsd

#endif  // CALLSD_COMMON_HTTP_HTTP_CLIENT_H_
