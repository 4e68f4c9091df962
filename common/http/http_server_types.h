// The plain request and response that the Calls API works on. The transport
// (libwebsockets, or a test) fills an HttpRequest and writes the HttpResponse
// back; nothing here depends on a socket.
#ifndef CALLSD_COMMON_HTTP_HTTP_SERVER_TYPES_H_
#define CALLSD_COMMON_HTTP_HTTP_SERVER_TYPES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace callsd::httpd {

struct HttpRequest {
  std::string method;  // upper case: "GET", "POST", "DELETE", ...
  // The path without the query, already percent-decoded (libwebsockets
  // decodes it, and also collapses "//" and resolves "." and ".." segments).
  std::string path;
  // Query parameters, names and values percent-decoded.
  absl::flat_hash_map<std::string, std::string> query;
  // Header values by lower-case name. Only the headers the API reads are
  // guaranteed to be present (see LwsHttpServer).
  absl::flat_hash_map<std::string, std::string> headers;
  std::string body;

  // The value of header `lower_case_name`, or "" when absent.
  absl::string_view Header(absl::string_view lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? absl::string_view() : absl::string_view(it->second);
  }
  bool HasHeader(absl::string_view lower_case_name) const {
    return headers.contains(lower_case_name);
  }
};

struct HttpResponse {
  int http_status = 200;
  std::string body;  // JSON (application/json)
  // Extra headers, e.g. {"allow", "GET, DELETE"} on a 405.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Something that answers requests: the Calls API. Called on the transport's
// thread; must not block on the network.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
};

}  // namespace callsd::httpd

#endif  // CALLSD_COMMON_HTTP_HTTP_SERVER_TYPES_H_
