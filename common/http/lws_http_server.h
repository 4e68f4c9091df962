// LwsHttpServer: the HTTP/1.1 transport of calls-server over libwebsockets
// 4.1.6. It only moves bytes: it turns each request into an HttpRequest,
// asks the HttpHandler, and writes the HttpResponse back (keep-alive
// connections serve several requests).
//
// Requests reach the handler with:
//   method   GET, POST, PUT, PATCH, DELETE, OPTIONS or HEAD;
//   path     percent-decoded and normalised by libwebsockets ("//" -> "/",
//            "." and ".." segments resolved): clients must percent-encode
//            every byte of a path parameter that is not unreserved;
//   query    decoded name=value pairs;
//   headers  api-token, app-id, session-key, content-type (when sent);
//   body     at most `max_body_bytes`; a larger Content-Length is answered
//            413 (code 400100) without reading the body, and the connection
//            is closed. A chunked body (Transfer-Encoding) is answered 411
//            (code 400100) and the connection is closed.
//
// HTTP/1.1 pipelining (a request sent before the previous response arrived)
// is not supported: libwebsockets 4.1.6 garbles the second request.
//
// One libwebsockets context and vhost, served by the thread that calls
// Run(). Other protocols (the signaling WebSocket) can join the same vhost
// through Options::extra_protocols; HTTP requests stay with this server's
// protocol whatever their order, because a mount on "/" names it.
#ifndef CALLSD_COMMON_HTTP_LWS_HTTP_SERVER_H_
#define CALLSD_COMMON_HTTP_LWS_HTTP_SERVER_H_

#include <libwebsockets.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/wire_json.h"
#include "common/http/http_server_types.h"

namespace callsd::httpd {

class LwsHttpServer {
 public:
  struct Options {
    // An IP address to listen on; "", "0.0.0.0", "::" or "*" for all.
    std::string listen = "127.0.0.1";
    int port = 0;  // 0: an ephemeral port (see port())
    size_t max_body_bytes = kMaxJsonBytes;
    // Appended after the HTTP protocol, in order. Give a WebSocket protocol
    // the per-vhost option "default" (through `vhost_options`) so that an
    // upgrade without a subprotocol binds to it. The structs are copied; the
    // strings they point to must outlive the server.
    std::vector<lws_protocols> extra_protocols;
    const lws_protocol_vhost_options* vhost_options = nullptr;
    // HTTPS and WSS instead of plain HTTP and WS when both are set: PEM
    // files of the certificate (chain) and its private key, read at Create().
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  // Creates the context and binds the listening socket (so port() is known
  // when this returns). `handler` must outlive the server. UNAVAILABLE
  // naming the address when it cannot listen.
  static absl::StatusOr<std::unique_ptr<LwsHttpServer>> Create(Options options,
                                                               HttpHandler* handler);

  // Destroys the context, closing every connection. Run() must have returned.
  ~LwsHttpServer();

  LwsHttpServer(const LwsHttpServer&) = delete;
  LwsHttpServer& operator=(const LwsHttpServer&) = delete;

  // The port actually bound.
  int port() const { return port_; }

  // Serves on the calling thread until Stop(). INTERNAL if libwebsockets'
  // service loop fails.
  absl::Status Run();

  // Thread-safe (also from a thread other than Run()'s). Makes Run() return
  // soon; idempotent.
  void Stop();

  // The libwebsockets context and vhost, for protocols added through
  // extra_protocols (e.g. to call lws_cancel_service()).
  lws_context* context() const { return context_.get(); }
  lws_vhost* vhost() const { return vhost_; }

 private:
  struct ContextDestroyer {
    void operator()(lws_context* context) const { lws_context_destroy(context); }
  };

  LwsHttpServer(Options options, HttpHandler* handler);
  static int Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);

  // Constant after construction.
  const Options options_;
  HttpHandler* const handler_;
  std::vector<lws_protocols> protocols_;
  lws_http_mount mount_{};
  std::unique_ptr<lws_context, ContextDestroyer> context_;
  lws_vhost* vhost_ = nullptr;
  int port_ = 0;

  std::atomic<bool> stop_{false};
};

}  // namespace callsd::httpd

#endif  // CALLSD_COMMON_HTTP_LWS_HTTP_SERVER_H_
