#include "common/http/http_util.h"

#include <netdb.h>
#include <sys/socket.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace callsd {
namespace {

// RFC 9110 token characters.
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsReservedHeader(absl::string_view name) {
  for (absl::string_view reserved :
       {"host", "content-length", "transfer-encoding", "connection", "user-agent"}) {
    if (absl::EqualsIgnoreCase(name, reserved)) return true;
  }
  return false;
}

absl::Status CheckHeaders(const HttpRequest& request) {
  size_t total = 0;
  for (const auto& [name, value] : request.headers) {
    if (name.empty()) return absl::InvalidArgumentError("empty request header name");
    for (char c : name) {
      if (!IsTokenChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("request header name \"", absl::CEscape(name), "\" is not an HTTP token"));
      }
    }
    if (IsReservedHeader(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("request header ", name, " is set by the HTTP client itself"));
    }
    if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("request header ", name, " has a CR, LF or NUL in its value"));
    }
    total += name.size() + value.size() + 4;
  }
  if (total > kMaxRequestHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("request headers take ", total,
                                                   " bytes, over the limit of ",
                                                   kMaxRequestHeaderBytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequest(const HttpRequest& request, bool allow_insecure_http, Url* url) {
  const std::string& m = request.method;
  if (m != "GET" && m != "POST" && m != "PUT" && m != "DELETE") {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP method \"", absl::CEscape(m), "\" is not supported (GET, POST, PUT, DELETE)"));
  }
  absl::StatusOr<Url> parsed = ParseUrl(request.url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("URL scheme \"", parsed->scheme, "\" is not http or https"));
  }
  if (!parsed->tls && !allow_insecure_http && !IsLoopbackHost(parsed->host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plain http to ", parsed->host,
                     " is refused: use https, or allow insecure http explicitly"));
  }
  if (request.timeout <= absl::ZeroDuration() || request.timeout > kMaxRequestTimeout) {
    return absl::InvalidArgumentError(
        absl::StrCat("request timeout ", absl::FormatDuration(request.timeout),
                     " is not in (0, ", absl::FormatDuration(kMaxRequestTimeout), "]"));
  }
  if (absl::Status s = CheckHeaders(request); !s.ok()) return s;
  *url = *std::move(parsed);
  return absl::OkStatus();
}

std::string HostHeader(const Url& url) {
  const bool ipv6 = absl::StrContains(url.host, ':');
  std::string host = ipv6 ? absl::StrCat("[", url.host, "]") : url.host;
  const int default_port = url.tls ? 443 : 80;
  if (url.port != default_port) absl::StrAppend(&host, ":", url.port);
  return host;
}

std::string LoggablePath(absl::string_view path) {
  path = path.substr(0, path.find('?'));
  std::vector<std::string> segments;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    segments.push_back(segment.size() > 24 ? absl::StrCat("<", segment.size(), " bytes>")
                                           : std::string(segment));
  }
  return absl::StrJoin(segments, "/");
}

absl::Status ConnectionFailure(const Url& url, absl::string_view lws_reason,
                               absl::string_view cert_error) {
  const std::string reason =
      lws_reason.empty() ? std::string("no reason given") : std::string(lws_reason);
  const std::string lower = absl::AsciiStrToLower(reason);
  const std::string where = absl::StrCat(url.host, ":", url.port);
  if (!cert_error.empty()) {
    return absl::UnavailableError(absl::StrCat("TLS certificate verification of ", where,
                                               " failed: ", cert_error));
  }
  if (absl::StrContains(lower, "getaddrinfo") || absl::StrContains(lower, "dns") ||
      absl::StrContains(lower, "resolve")) {
    return absl::UnavailableError(
        absl::StrCat("DNS lookup of ", url.host, " failed (", reason, ")"));
  }
  if (absl::StrContains(lower, "cert") || absl::StrContains(lower, "x509")) {
    return absl::UnavailableError(absl::StrCat(
        "TLS certificate verification of ", where, " failed (", reason, ")"));
  }
  if (absl::StrContains(lower, "tls") || absl::StrContains(lower, "ssl")) {
    return absl::UnavailableError(
        absl::StrCat("TLS handshake with ", where, " failed (", reason, ")"));
  }
  if (absl::StrContains(lower, "refused")) {
    return absl::UnavailableError(
        absl::StrCat("connection to ", where, " refused (", reason, ")"));
  }
  if (absl::StrContains(lower, "hung up") || absl::StrContains(lower, "closed")) {
    return absl::UnavailableError(absl::StrCat(
        "connection to ", where, " closed before a complete response (", reason, ")"));
  }
  return absl::UnavailableError(
      absl::StrCat("connection to ", where, " failed (", reason, ")"));
}

absl::Status ConnectStartFailure(const Url& url) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (found != nullptr) freeaddrinfo(found);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("DNS lookup of ", url.host, " failed (", gai_strerror(error), ")"));
  }
  return absl::UnavailableError(
      absl::StrCat("could not start a connection to ", url.host, ":", url.port));
}

}  // namespace callsd
