// The TLS side shared by callsd's two libwebsockets clients (the REST client
// and the call WebSocket): a client SSL_CTX that callsd owns and hands to
// lws, and the lws context deleter.
//
// Why callsd makes the SSL_CTX instead of letting lws make one per vhost:
// lws 4.1 shares its generated client SSL_CTXs between contexts in one
// process and, with two contexts (callsd has both clients), never frees the
// first one (LeakSanitizer: the whole CA bundle at every exit). A provided
// context is never freed by lws; its owner frees it after the lws context.
#ifndef CALLSD_COMMON_HTTP_LWS_CLIENT_TLS_H_
#define CALLSD_COMMON_HTTP_LWS_CLIENT_TLS_H_

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace callsd {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

struct LwsContextDeleter {
  void operator()(lws_context* context) const { lws_context_destroy(context); }
};
using LwsContextPtr = std::unique_ptr<lws_context, LwsContextDeleter>;

// A TLS client context (TLS 1.2 or newer) trusting the system CA bundle
// and, when `ca_file` is not empty, the PEM certificates in it.
// INVALID_ARGUMENT naming `ca_file` when it is missing, unreadable or holds
// no usable certificate. Certificate and host name checks are made per
// connection by lws (LCCSCF_* flags).
absl::StatusOr<SslCtxPtr> MakeClientSslCtx(const std::string& ca_file);

// The lws client connection flags (LCCSCF_*) of one TLS connection:
// LCCSCF_USE_SSL, and when `verify` is false every flag that skips a
// certificate check (self-signed, unknown CA, expired, wrong host name).
// Logs a WARNING naming `where` each time verification is off, so that an
// unverified connection never goes unnoticed.
int TlsConnectionFlags(bool verify, absl::string_view where);

// What a callsd lws client context is made of.
struct LwsClientContextOptions {
  const lws_protocols* protocols = nullptr;
  void* user = nullptr;  // lws_context_user()
  std::string ca_file;
  // lws's own timeouts: a backstop behind the client's own deadlines.
  unsigned backstop_secs = 0;
  size_t serv_buf_bytes = 0;
  // Names the client in the error ("HTTP client", "WebSocket client").
  std::string what;
};

// Makes `*ssl_ctx` (MakeClientSslCtx) and then a client-only lws context
// over it in `*context`. The caller keeps `*ssl_ctx` alive until
// `*context` is destroyed.
absl::Status CreateLwsClientContext(const LwsClientContextOptions& options, SslCtxPtr* ssl_ctx,
                                    LwsContextPtr* context);

}  // namespace callsd

#endif  // CALLSD_COMMON_HTTP_LWS_CLIENT_TLS_H_
