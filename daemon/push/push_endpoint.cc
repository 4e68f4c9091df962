#include "daemon/push/push_endpoint.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/wire_json.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

httpd::HttpResponse Answer(int http_status, int calls_code, absl::string_view message) {
  httpd::HttpResponse response;
  response.http_status = http_status;
  response.body = ErrorJson(calls_code, message);
  return response;
}

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kFailedPrecondition: return 409;
    default: return 503;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<PushEndpoint>> PushEndpoint::Start(const std::string& listen,
                                                                  Deliver deliver) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("push endpoint \"", listen,
                                                   "\": expected HOST:PORT"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::unique_ptr<PushEndpoint> endpoint(new PushEndpoint(std::move(deliver)));
  httpd::LwsHttpServer::Options options;
  options.listen = host;
  options.port = port;
  options.max_body_bytes = 8192;
  auto server = httpd::LwsHttpServer::Create(options, endpoint.get());
  if (!server.ok()) {
    return absl::Status(server.status().code(), absl::StrCat("push endpoint: ",
                                                             server.status().message()));
  }
  endpoint->server_ = *std::move(server);
  const bool v6 = host.find(':') != std::string::npos;
  endpoint->url_ = absl::StrCat("http://", v6 ? "[" + host + "]" : host, ":",
                                endpoint->server_->port(), "/push");
  httpd::LwsHttpServer* raw = endpoint->server_.get();
  endpoint->thread_ = std::thread([raw] {
    pthread_setname_np(pthread_self(), "callsd-push");
    if (absl::Status s = raw->Run(); !s.ok()) LOG(ERROR) << "push endpoint: " << s;
  });
  LOG(INFO) << "built-in push endpoint at " << endpoint->url_;
  return endpoint;
}

PushEndpoint::~PushEndpoint() {
  if (server_) server_->Stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

httpd::HttpResponse PushEndpoint::Handle(const httpd::HttpRequest& request) {
  if (request.path != "/push") return Answer(404, kCodeNotFound, "not found: POST /push");
  if (request.method != "POST") {
    httpd::HttpResponse response = Answer(405, kCodeInvalidParams, "use POST /push");
    response.headers.emplace_back("allow", "POST");
    return response;
  }
  absl::StatusOr<wire::v1::PushEndpointAnswer> outcome = deliver_(request.body);
  if (!outcome.ok()) {
    return Answer(HttpStatusFor(outcome.status().code()), 0, outcome.status().message());
  }
  httpd::HttpResponse response;
  response.http_status = 200;
  response.body = ToJson(*outcome);
  return response;
}

}  // namespace callsd::daemon
