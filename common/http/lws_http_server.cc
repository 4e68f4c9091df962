#include "common/http/lws_http_server.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/calls_error.h"
#include "glog/logging.h"
#include "common/wire_json.h"

namespace callsd::httpd {
namespace {

// Answers the transport gives itself, in the Calls error format.
HttpResponse ErrorResponse(int http_status, int calls_code, absl::string_view message) {
  HttpResponse response;
  response.http_status = http_status;
  response.body = ErrorJson(calls_code, message);
  return response;
}

HttpResponse BodyTooLargeResponse(size_t size, size_t limit) {
  return ErrorResponse(413, kCodeInvalidParams,
                       absl::StrCat("request body of ", size, " bytes is over the limit of ",
                                    limit, " bytes"));
}

constexpr char kProtocolName[] = "calls-http";
constexpr size_t kWriteChunkBytes = 16 * 1024;

// The headers the API reads; libwebsockets only hands out the ones asked for.
constexpr const char* kCustomHeaders[] = {"api-token", "app-id", "session-key"};

// One request/response on a connection. Owned by the connection's
// per-session data (which is raw memory: it only holds this pointer).
struct Exchange {
  HttpRequest request;
  bool dispatched = false;   // the handler has answered
  bool too_large = false;    // the body went over the limit while arriving
  bool close_after = false;  // close the connection after the response
  bool headers_sent = false;
  HttpResponse response;
  std::string wire;  // LWS_PRE bytes of headroom, then the body
  size_t sent = 0;   // body bytes written
};

struct PerSession {
  Exchange* exchange;
};

void LwsLog(int level, const char* line) {
  absl::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (level & LLL_ERR) {
    LOG(ERROR) << "libwebsockets: " << text;
  } else {
    LOG(WARNING) << "libwebsockets: " << text;
  }
}

struct MethodToken {
  int method;  // LWSHUMETH_*
  lws_token_indexes token;
  const char* name;
};
constexpr MethodToken kMethods[] = {
    {LWSHUMETH_GET, WSI_TOKEN_GET_URI, "GET"},
    {LWSHUMETH_POST, WSI_TOKEN_POST_URI, "POST"},
    {LWSHUMETH_OPTIONS, WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    {LWSHUMETH_PUT, WSI_TOKEN_PUT_URI, "PUT"},
    {LWSHUMETH_PATCH, WSI_TOKEN_PATCH_URI, "PATCH"},
    {LWSHUMETH_DELETE, WSI_TOKEN_DELETE_URI, "DELETE"},
    {LWSHUMETH_HEAD, WSI_TOKEN_HEAD_URI, "HEAD"},
};

std::string CopyHeader(lws* wsi, lws_token_indexes token) {
  int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return std::string();
  std::string value(static_cast<size_t>(len) + 1, '\0');
  int n = lws_hdr_copy(wsi, value.data(), len + 1, token);
  value.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return value;
}

// Fills method, path, query and headers. False when the method is unknown.
bool ReadRequestHead(lws* wsi, HttpRequest* request) {
  char* uri = nullptr;
  int uri_len = 0;
  const int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  const MethodToken* found = nullptr;
  for (const MethodToken& m : kMethods) {
    if (m.method == method) found = &m;
  }
  if (found == nullptr) return false;
  request->method = found->name;
  request->path = CopyHeader(wsi, found->token);

  const int args_len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
  if (args_len > 0) {
    std::string buf(static_cast<size_t>(args_len) + 1, '\0');
    for (int i = 0;; ++i) {
      int n = lws_hdr_copy_fragment(wsi, buf.data(), static_cast<int>(buf.size()),
                                    WSI_TOKEN_HTTP_URI_ARGS, i);
      if (n < 0) break;
      absl::string_view arg(buf.data(), static_cast<size_t>(n));
      const size_t eq = arg.find('=');
      if (eq == absl::string_view::npos) {
        request->query.emplace(std::string(arg), "");
      } else {
        request->query.emplace(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
      }
    }
  }

  for (const char* name : kCustomHeaders) {
    const std::string key = absl::StrCat(name, ":");
    const int key_len = static_cast<int>(key.size());
    const int len = lws_hdr_custom_length(wsi, key.c_str(), key_len);
    if (len < 0) continue;
    std::string value(static_cast<size_t>(len) + 1, '\0');
    int n = lws_hdr_custom_copy(wsi, value.data(), len + 1, key.c_str(), key_len);
    value.resize(n > 0 ? static_cast<size_t>(n) : 0);
    request->headers.emplace(name, std::move(value));
  }
  if (std::string type = CopyHeader(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE); !type.empty()) {
    request->headers.emplace("content-type", std::move(type));
  }
  return true;
}

void SetResponse(Exchange* exchange, HttpResponse response) {
  exchange->dispatched = true;
  exchange->response = std::move(response);
  if (exchange->request.method == "HEAD") exchange->response.body.clear();
  exchange->wire.assign(LWS_PRE, '\0');
  exchange->wire += exchange->response.body;
}

void DeleteExchange(PerSession* pss) {
  if (pss == nullptr) return;
  delete pss->exchange;
  pss->exchange = nullptr;
}

// Writes the status line and headers. Non-zero on failure.
int WriteHeaders(lws* wsi, Exchange* exchange) {
  const HttpResponse& response = exchange->response;
  size_t extra = 0;
  for (const auto& [name, value] : response.headers) extra += name.size() + value.size() + 4;
  std::vector<unsigned char> buf(LWS_PRE + 1024 + extra);
  unsigned char* start = buf.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf.data() + buf.size() - 1;
  const auto status = static_cast<unsigned int>(response.http_status);
  const size_t body_len = response.body.size();
  static constexpr char kJson[] = "application/json";
  if (exchange->close_after) {
    static constexpr char kClose[] = "close";
    if (lws_add_http_header_status(wsi, status, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     reinterpret_cast<const unsigned char*>(kJson),
                                     sizeof(kJson) - 1, &p, end) ||
        lws_add_http_header_content_length(wsi, body_len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                     reinterpret_cast<const unsigned char*>(kClose),
                                     sizeof(kClose) - 1, &p, end)) {
      return 1;
    }
  } else if (lws_add_http_common_headers(wsi, status, kJson, body_len, &p, end)) {
    return 1;
  }
  for (const auto& [name, value] : response.headers) {
    const std::string key = absl::StrCat(name, ":");
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(key.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), &p, end)) {
      return 1;
    }
  }
  return lws_finalize_write_http_header(wsi, start, &p, end);
}

// Ends the exchange after its last byte: -1 closes the connection.
int FinishExchange(lws* wsi, PerSession* pss) {
  const bool close = pss->exchange->close_after;
  DeleteExchange(pss);
  if (close) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

}  // namespace

LwsHttpServer::LwsHttpServer(Options options, HttpHandler* handler)
    : options_(std::move(options)), handler_(handler) {}

absl::StatusOr<std::unique_ptr<LwsHttpServer>> LwsHttpServer::Create(Options options,
                                                                     HttpHandler* handler) {
  static std::once_flag log_once;
  std::call_once(log_once, [] { lws_set_log_level(LLL_ERR | LLL_WARN, LwsLog); });

  std::unique_ptr<LwsHttpServer> server(new LwsHttpServer(std::move(options), handler));
  const Options& opts = server->options_;

  lws_protocols http{};
  http.name = kProtocolName;
  http.callback = &LwsHttpServer::Callback;
  http.per_session_data_size = sizeof(PerSession);
  server->protocols_.push_back(http);
  for (const lws_protocols& p : opts.extra_protocols) server->protocols_.push_back(p);
  server->protocols_.push_back(lws_protocols{});  // terminator

  lws_http_mount& mount = server->mount_;
  mount.mountpoint = "/";
  mount.mountpoint_len = 1;
  mount.origin = kProtocolName;
  mount.origin_protocol = LWSMPRO_CALLBACK;

  const bool tls = !opts.tls_cert_file.empty();
  lws_context_creation_info info{};
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = server.get();
  // Room for long percent-encoded paths (a push token is up to 1000 bytes,
  // 3000 encoded).
  info.max_http_header_data = 16 * 1024;
  info.max_http_header_pool = 64;
  lws_context* context = lws_create_context(&info);
  if (context == nullptr) return absl::InternalError("lws_create_context failed");
  server->context_.reset(context);

  lws_context_creation_info vinfo{};
  vinfo.vhost_name = "calls-server";
  vinfo.port = opts.port;
  const bool any = opts.listen.empty() || opts.listen == "0.0.0.0" || opts.listen == "::" ||
                   opts.listen == "*";
  vinfo.iface = any ? nullptr : opts.listen.c_str();
  vinfo.protocols = server->protocols_.data();
  vinfo.pvo = opts.vhost_options;
  vinfo.mounts = &server->mount_;
  vinfo.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  if (tls) {
    vinfo.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vinfo.ssl_cert_filepath = opts.tls_cert_file.c_str();
    vinfo.ssl_private_key_filepath = opts.tls_key_file.c_str();
  }
  vinfo.keepalive_timeout = 60;
  vinfo.timeout_secs = 30;
  server->vhost_ = lws_create_vhost(context, &vinfo);
  if (server->vhost_ == nullptr && tls) {
    // lws logs the OpenSSL reason (bad PEM, key not matching) as an error.
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve TLS with certificate ", opts.tls_cert_file, " and key ",
                     opts.tls_key_file, " (unreadable, not PEM, or not a pair?), or cannot "
                     "listen on ", any ? "*" : opts.listen, ":", opts.port));
  }
  if (server->vhost_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", any ? "*" : opts.listen, ":",
                                               opts.port, " (in use, or not a local address?)"));
  }
  server->port_ = lws_get_vhost_listen_port(server->vhost_);
  return server;
}

LwsHttpServer::~LwsHttpServer() = default;

absl::Status LwsHttpServer::Run() {
  while (!stop_.load()) {
    if (lws_service(context_.get(), 0) < 0) {
      return absl::InternalError("libwebsockets service loop failed");
    }
  }
  return absl::OkStatus();
}

void LwsHttpServer::Stop() {
  stop_.store(true);
  lws_cancel_service(context_.get());
}

int LwsHttpServer::Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                            size_t len) {
  auto* pss = static_cast<PerSession*>(user);
  switch (reason) {
    case LWS_CALLBACK_HTTP: {
      auto* self = static_cast<LwsHttpServer*>(lws_context_user(lws_get_context(wsi)));
      DeleteExchange(pss);
      auto* exchange = new Exchange();
      pss->exchange = exchange;
      if (!ReadRequestHead(wsi, &exchange->request)) return -1;
      if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        // libwebsockets 4.1.6 does not decode chunked request bodies.
        exchange->close_after = true;
        SetResponse(exchange, ErrorResponse(411, kCodeInvalidParams,
                                            "chunked request bodies are not supported; send "
                                            "Content-Length"));
        lws_callback_on_writable(wsi);
        return 0;
      }
      uint64_t content_length = 0;
      const std::string length_text = CopyHeader(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
      if (!length_text.empty() && !absl::SimpleAtoi(length_text, &content_length)) return -1;
      if (content_length > self->options_.max_body_bytes) {
        // Answer now without reading the body; the connection cannot be
        // reused since the body would follow.
        exchange->close_after = true;
        SetResponse(exchange,
                    BodyTooLargeResponse(content_length, self->options_.max_body_bytes));
        lws_callback_on_writable(wsi);
        return 0;
      }
      if (content_length == 0) {
        SetResponse(exchange, self->handler_->Handle(exchange->request));
        lws_callback_on_writable(wsi);
      } else {
        exchange->request.body.reserve(content_length);
      }
      return 0;
    }

    case LWS_CALLBACK_HTTP_BODY: {
      Exchange* exchange = pss ? pss->exchange : nullptr;
      if (exchange == nullptr || exchange->dispatched) return 0;
      auto* self = static_cast<LwsHttpServer*>(lws_context_user(lws_get_context(wsi)));
      if (exchange->request.body.size() + len > self->options_.max_body_bytes) {
        exchange->too_large = true;
      } else {
        exchange->request.body.append(static_cast<const char*>(in), len);
      }
      return 0;
    }

    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
      Exchange* exchange = pss ? pss->exchange : nullptr;
      if (exchange == nullptr || exchange->dispatched) return 0;
      auto* self = static_cast<LwsHttpServer*>(lws_context_user(lws_get_context(wsi)));
      if (exchange->too_large) {
        SetResponse(exchange, BodyTooLargeResponse(self->options_.max_body_bytes + 1,
                                                   self->options_.max_body_bytes));
      } else {
        SetResponse(exchange, self->handler_->Handle(exchange->request));
      }
      lws_callback_on_writable(wsi);
      return 0;
    }

    case LWS_CALLBACK_HTTP_WRITEABLE: {
      Exchange* exchange = pss ? pss->exchange : nullptr;
      if (exchange == nullptr || !exchange->dispatched) return 0;
      if (!exchange->headers_sent) {
        if (WriteHeaders(wsi, exchange)) return -1;
        exchange->headers_sent = true;
        if (exchange->response.body.empty()) return FinishExchange(wsi, pss);
        lws_callback_on_writable(wsi);
        return 0;
      }
      const size_t body_len = exchange->response.body.size();
      const size_t chunk = std::min(kWriteChunkBytes, body_len - exchange->sent);
      const bool last = exchange->sent + chunk == body_len;
      auto* data = reinterpret_cast<unsigned char*>(exchange->wire.data()) + LWS_PRE +
                   exchange->sent;
      if (lws_write(wsi, data, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
          static_cast<int>(chunk)) {
        return -1;
      }
      exchange->sent += chunk;
      if (last) return FinishExchange(wsi, pss);
      lws_callback_on_writable(wsi);
      return 0;
    }

    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      DeleteExchange(pss);
      break;

    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

}  // namespace callsd::httpd
