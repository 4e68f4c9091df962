#include "server/http/router.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace callsd::server {
namespace {

// "/a/b/" -> {"a", "b", ""}; "/" -> {""}.
std::vector<absl::string_view> SplitPath(absl::string_view path) {
  if (absl::StartsWith(path, "/")) path.remove_prefix(1);
  return absl::StrSplit(path, '/');
}

bool IsCapture(absl::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool IsRestCapture(absl::string_view segment) {
  return IsCapture(segment) && absl::EndsWith(segment, "...}");
}

std::string CaptureName(absl::string_view segment) {
  segment.remove_prefix(1);  // '{'
  segment.remove_suffix(1);  // '}'
  if (absl::EndsWith(segment, "...")) segment.remove_suffix(3);
  return std::string(segment);
}

}  // namespace

void Router::Add(absl::string_view method, absl::string_view pattern, Handler handler) {
  CHECK(absl::StartsWith(pattern, "/")) << pattern;
  Route route;
  route.method = std::string(method);
  route.pattern = std::string(pattern);
  for (absl::string_view segment : SplitPath(pattern)) {
    route.segments.emplace_back(segment);
  }
  for (size_t i = 0; i + 1 < route.segments.size(); ++i) {
    CHECK(!IsRestCapture(route.segments[i])) << "{name...} must be last: " << pattern;
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

bool Router::MatchPath(const Route& route, const std::vector<absl::string_view>& path,
                       PathParams* params) {
  params->clear();
  const std::vector<std::string>& segments = route.segments;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = segments[i];
    if (IsRestCapture(want)) {
      if (i >= path.size()) return false;
      std::vector<absl::string_view> rest(path.begin() + i, path.end());
      std::string value = absl::StrJoin(rest, "/");
      if (value.empty()) return false;
      (*params)[CaptureName(want)] = std::move(value);
      return true;
    }
    if (i >= path.size()) return false;
    if (IsCapture(want)) {
      if (path[i].empty()) return false;
      (*params)[CaptureName(want)] = std::string(path[i]);
    } else if (path[i] != want) {
      return false;
    }
  }
  return segments.size() == path.size();
}

Router::Match Router::Find(absl::string_view method, absl::string_view path) const {
  Match match;
  const std::vector<absl::string_view> segments = SplitPath(path);
  PathParams params;
  for (const Route& route : routes_) {
    if (!MatchPath(route, segments, &params)) continue;
    if (route.method == method) {
      match.kind = Match::kFound;
      match.handler = &route.handler;
      match.params = std::move(params);
      match.pattern = route.pattern;
      match.allowed.clear();
      return match;
    }
    if (match.pattern.empty()) match.pattern = route.pattern;
    if (std::find(match.allowed.begin(), match.allowed.end(), route.method) ==
        match.allowed.end()) {
      match.allowed.push_back(route.method);
    }
  }
  match.kind = match.allowed.empty() ? Match::kNotFound : Match::kMethodNotAllowed;
  if (match.kind == Match::kNotFound) match.pattern.clear();
  return match;
}

}  // namespace callsd::server
