// LwsHttpClient: the events of one request's connection (service thread).
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/http/http_util.h"
#include "common/http/lws_http_client.h"

namespace callsd {
namespace {

std::string HeaderValue(lws* wsi, lws_token_indexes token) {
  const int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string value(static_cast<size_t>(n) + 1, '\0');
  const int copied = lws_hdr_copy(wsi, value.data(), n + 1, token);
  value.resize(copied > 0 ? static_cast<size_t>(copied) : 0);
  return value;
}

}  // namespace

int LwsHttpClient::OnRequestEvent(Pending& p, lws* wsi, lws_callback_reasons reason,
                                  void* user, void* in, size_t len) {
  const uint64_t id = p.id;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      const char* text = static_cast<const char*>(in);
      const size_t n = text == nullptr ? 0 : (len > 0 ? strnlen(text, len) : strlen(text));
      Complete(id, ConnectionFailure(p.url, absl::string_view(text == nullptr ? "" : text, n),
                                     p.cert_error));
      return 0;
    }
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION: {
      // user: X509_STORE_CTX*, len: OpenSSL's preverify_ok. lws's own
      // connection error text ("connect SSL err 1") does not say why.
      if (len == 0 && p.cert_error.empty()) {
        const int error = X509_STORE_CTX_get_error(static_cast<X509_STORE_CTX*>(user));
        p.cert_error = X509_verify_cert_error_string(error);
      }
      return 0;  // lws and OpenSSL decide
    }
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      return AppendHeaders(p, wsi, in, len);
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
      return WriteBody(p, wsi);
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      return OnEstablished(p, wsi);
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      // Drains the socket; the payload comes back as ..._HTTP_READ (and the
      // request may complete inside): `p` must not be used after this.
      char buf[LWS_PRE + 4096];
      char* start = buf + LWS_PRE;
      int size = static_cast<int>(sizeof(buf) - LWS_PRE);
      return lws_http_client_read(wsi, &start, &size) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      if (p.response.body.size() + len > options_.max_response_bytes) {
        Complete(id, absl::UnavailableError(absl::StrCat(
                         "response from ", p.url.host, ":", p.url.port,
                         " is larger than the limit of ", options_.max_response_bytes,
                         " bytes")));
        return -1;
      }
      p.response.body.append(static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
      Complete(id, std::move(p.response));
      return -1;  // one request per connection: close it now
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      OnClosed(p);
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      p.wsi = nullptr;
      OnClosed(p);
      return 0;
    default:
      return 0;
  }
}

int LwsHttpClient::AppendHeaders(Pending& p, lws* wsi, void* in, size_t len) {
  auto** pos = static_cast<unsigned char**>(in);
  unsigned char* const end = *pos + len;
  auto add = [&](absl::string_view name, absl::string_view value) {
    const std::string name_colon = absl::StrCat(name, ":");
    return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name_colon.c_str()),
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), pos, end) == 0;
  };
  bool ok = add("User-Agent", options_.user_agent);
  for (const auto& [name, value] : p.request.headers) ok = ok && add(name, value);
  const std::string& body = p.request.body;
  // lws sends no Content-Length of its own, and servers reject chunked
  // request bodies: always give the length when there is (or may be) one.
  if (!body.empty() || p.request.method == "POST" || p.request.method == "PUT") {
    ok = ok && add("Content-Length", absl::StrCat(body.size()));
  }
  if (!ok) {
    Complete(p.id, absl::InvalidArgumentError("request headers do not fit in the lws buffer"));
    return -1;
  }
  if (!body.empty()) {
    lws_client_http_body_pending(wsi, 1);
    lws_callback_on_writable(wsi);
  }
  return 0;
}

int LwsHttpClient::WriteBody(Pending& p, lws* wsi) {
  const std::string& body = p.request.body;
  if (p.body_sent >= body.size()) return 0;  // extra writable callbacks happen
  const size_t n = std::min(kWriteChunk, body.size() - p.body_sent);
  const bool last = p.body_sent + n == body.size();
  memcpy(write_buf_.data() + LWS_PRE, body.data() + p.body_sent, n);
  if (last) lws_client_http_body_pending(wsi, 0);
  const int written = lws_write(wsi, write_buf_.data() + LWS_PRE, n,
                                last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
  if (written < 0 || static_cast<size_t>(written) != n) {
    Complete(p.id, absl::UnavailableError(absl::StrCat(
                       "connection to ", p.url.host, ":", p.url.port,
                       " failed while sending the request body")));
    return -1;
  }
  p.body_sent += n;
  if (!last) lws_callback_on_writable(wsi);
  return 0;
}

int LwsHttpClient::OnEstablished(Pending& p, lws* wsi) {
  p.established = true;
  p.response.status = static_cast<int>(lws_http_client_http_response(wsi));
  p.response.content_type = HeaderValue(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
  const int status = p.response.status;
  if (status == 204 || status == 304) {
    // No body by definition, but lws 4.1 waits for one (or for the close)
    // when there is no Content-Length.
    Complete(p.id, std::move(p.response));
    return -1;
  }
  const std::string length = HeaderValue(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  uint64_t content_length = 0;
  if (!length.empty() && absl::SimpleAtoi(length, &content_length)) {
    p.length_known = true;
    if (content_length > options_.max_response_bytes) {
      Complete(p.id, absl::UnavailableError(absl::StrCat(
                         "response from ", p.url.host, ":", p.url.port, " is larger than the limit of ",
                         options_.max_response_bytes, " bytes (Content-Length ", content_length,
                         ")")));
      return -1;
    }
  }
  if (!HeaderValue(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING).empty()) p.length_known = true;
  return 0;
}

void LwsHttpClient::OnClosed(Pending& p) {
  if (p.established && !p.length_known) {
    // No Content-Length and not chunked: the body ends with the connection.
    Complete(p.id, std::move(p.response));
    return;
  }
  Complete(p.id, absl::UnavailableError(absl::StrCat(
                     "connection to ", p.url.host, ":", p.url.port,
                     " closed before a complete response",
                     p.established ? absl::StrCat(" (HTTP ", p.response.status, ", ",
                                                  p.response.body.size(), " body bytes received)")
                                   : std::string(" (no response received)"))));
}

}  // namespace callsd
