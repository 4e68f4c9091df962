#include "common/http/lws_client_tls.h"

#include <openssl/err.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace callsd {

absl::StatusOr<SslCtxPtr> MakeClientSslCtx(const std::string& ca_file) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return absl::InternalError("OpenSSL could not create a TLS client context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    LOG(WARNING) << "could not load the system CA bundle";
  }
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("ca_file ", ca_file, " holds no usable PEM certificate"));
  }
  ERR_clear_error();
  return ctx;
}

int TlsConnectionFlags(bool verify, absl::string_view where) {
  if (verify) return LCCSCF_USE_SSL;
  LOG(WARNING) << "TLS certificate verification is OFF for the connection to " << where
               << ": its certificate is not checked (anyone on the path can impersonate it)";
  return LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
         LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
}

absl::Status CreateLwsClientContext(const LwsClientContextOptions& options, SslCtxPtr* ssl_ctx,
                                    LwsContextPtr* context) {
  absl::StatusOr<SslCtxPtr> made = MakeClientSslCtx(options.ca_file);
  if (!made.ok()) return made.status();
  *ssl_ctx = *std::move(made);
  lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = options.protocols;
  // Without it, every https/wss connection fails with "bio_create failed".
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.provided_client_ssl_ctx = ssl_ctx->get();
  info.user = options.user;
  info.timeout_secs = options.backstop_secs;
  info.connect_timeout_secs = options.backstop_secs;
  info.pt_serv_buf_size = options.serv_buf_bytes;
  context->reset(lws_create_context(&info));
  if (*context == nullptr) {
    return absl::InternalError(
        absl::StrCat("libwebsockets could not create the ", options.what, " context"));
  }
  return absl::OkStatus();
}

}  // namespace callsd
