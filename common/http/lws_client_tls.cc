#include "common/http/lws_client_tls.h"

#include <openssl/err.h>

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

}  // namespace callsd
