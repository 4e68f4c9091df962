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

#include "absl/status/statusor.h"

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

}  // namespace callsd

#endif  // CALLSD_COMMON_HTTP_LWS_CLIENT_TLS_H_
