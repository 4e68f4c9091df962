// Router: maps (method, path) to a handler by path patterns.
//
// A pattern is a '/'-separated list of segments:
//   "users"       a literal segment;
//   "{user_id}"   one non-empty segment, captured under "user_id";
//   "{token...}"  the rest of the path, as is ('/' included, not empty),
//                 captured under "token"; last segment only.
// Routes are matched in the order they were added.
#ifndef CALLSD_SERVER_HTTP_ROUTER_H_
#define CALLSD_SERVER_HTTP_ROUTER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "server/http/http_types.h"

namespace callsd::server {

using PathParams = absl::flat_hash_map<std::string, std::string>;

class Router {
 public:
  using Handler = absl::AnyInvocable<HttpResponse(const HttpRequest&, const PathParams&) const>;

  // Adds a route. `pattern` must start with '/'. Not thread-safe: add every
  // route before the first Find().
  void Add(absl::string_view method, absl::string_view pattern, Handler handler);

  struct Match {
    enum Kind { kFound, kMethodNotAllowed, kNotFound };
    Kind kind = kNotFound;
    const Handler* handler = nullptr;  // kFound
    PathParams params;                 // kFound
    // kFound: the route's pattern; kMethodNotAllowed: the first route whose
    // path matches. Safe to log (holds no path values).
    std::string pattern;
    std::vector<std::string> allowed;  // kMethodNotAllowed: the methods that match
  };

  // Thread-safe (const).
  Match Find(absl::string_view method, absl::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool MatchPath(const Route& route, const std::vector<absl::string_view>& path,
                        PathParams* params);

  std::vector<Route> routes_;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_HTTP_ROUTER_H_
