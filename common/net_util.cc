#include "common/net_util.h"

#include <arpa/inet.h>
#include <libwebsockets.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace callsd {

bool IsLoopbackHost(absl::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string h = absl::AsciiStrToLower(host);
  if (h == "localhost" || absl::EndsWith(h, ".localhost")) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

absl::StatusOr<Url> ParseUrl(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("URL is empty");
  if (text.size() > 2048) return absl::InvalidArgumentError("URL is longer than 2048 bytes");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return absl::InvalidArgumentError("URL contains a space, control or non-ASCII character");
    }
  }
  if (!absl::StrContains(text, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL \"", text, "\" has no scheme (expected http://, https://, ws:// or wss://)"));
  }
  // lws_parse_uri cuts its (mutable, NUL-terminated) input in place.
  std::vector<char> buf(text.begin(), text.end());
  buf.push_back('\0');
  const char* prot = nullptr;
  const char* ads = nullptr;
  const char* path = nullptr;
  int port = 0;
  if (lws_parse_uri(buf.data(), &prot, &ads, &port, &path) != 0 || prot == nullptr ||
      ads == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" cannot be parsed"));
  }
  Url url;
  url.scheme = absl::AsciiStrToLower(prot);
  if (url.scheme == "https" || url.scheme == "wss") {
    url.tls = true;
  } else if (url.scheme != "http" && url.scheme != "ws") {
    return absl::InvalidArgumentError(absl::StrCat(
        "URL scheme \"", url.scheme, "\" is not supported (expected http, https, ws or wss)"));
  }
  url.host = ads;
  if (url.host.empty()) return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" has no host"));
  // Ports are whatever lws found, defaulted per scheme when absent from the text.
  const absl::string_view after_scheme = text.substr(text.find("://") + 3);
  const absl::string_view authority = after_scheme.substr(0, after_scheme.find('/'));
  const bool explicit_port =
      authority.rfind(':') != absl::string_view::npos &&
      (authority.front() != '[' || authority.rfind(':') > authority.rfind(']'));
  url.port = explicit_port ? port : (url.tls ? 443 : 80);
  if (url.port <= 0 || url.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" has an invalid port"));
  }
  url.path = absl::StrCat("/", path == nullptr ? "" : path);
  return url;
}

}  // namespace callsd
