// The server's HTTP types are the shared ones of common/http (the daemon's
// built-in push endpoint serves with the same transport).
#ifndef CALLSD_SERVER_HTTP_HTTP_TYPES_H_
#define CALLSD_SERVER_HTTP_HTTP_TYPES_H_

#include "common/http/http_server_types.h"

namespace callsd::server {

using HttpRequest = ::callsd::httpd::HttpRequest;
using HttpResponse = ::callsd::httpd::HttpResponse;
using HttpHandler = ::callsd::httpd::HttpHandler;

}  // namespace callsd::server

#endif  // CALLSD_SERVER_HTTP_HTTP_TYPES_H_
