// The daemon's optional built-in push endpoint (DESIGN.md "Push"): a local
// HTTP listener on loopback whose URL can be registered as a push token
// when no push distributor bridge runs. POST /push with the payload as the
// body does what DeliverPush does; the answer is 200 with the outcome, or
// the error (400 malformed, 403 bad signature, 409 wrong app/user/stale,
// 503 not ready) in the Calls error format.
#ifndef CALLSD_DAEMON_PUSH_PUSH_ENDPOINT_H_
#define CALLSD_DAEMON_PUSH_PUSH_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/http/lws_http_server.h"
#include "wire/v1/wire.pb.h"

namespace callsd::daemon {

class PushEndpoint final : public httpd::HttpHandler {
 public:
  // Handles one payload; returns the outcome or why it was refused. Called
  // on the endpoint's own thread.
  using Deliver =
      std::function<absl::StatusOr<wire::v1::PushEndpointAnswer>(const std::string& payload)>;

  // Listens on `listen` ("127.0.0.1:0") and serves on a thread of its own.
  // Errors name the address.
  static absl::StatusOr<std::unique_ptr<PushEndpoint>> Start(const std::string& listen,
                                                             Deliver deliver);
  // Stops serving and joins the thread.
  ~PushEndpoint() override;

  // http://HOST:PORT/push
  const std::string& url() const { return url_; }

  httpd::HttpResponse Handle(const httpd::HttpRequest& request) override;

 private:
  explicit PushEndpoint(Deliver deliver) : deliver_(std::move(deliver)) {}

  const Deliver deliver_;
  std::unique_ptr<httpd::LwsHttpServer> server_;
  std::thread thread_;
  std::string url_;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_PUSH_PUSH_ENDPOINT_H_
