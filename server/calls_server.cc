#include "server/calls_server.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/signals.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "server/config.h"
#include "server/demo.h"
#include "server/file_util.h"
#include "server/push/push_sender.h"

namespace callsd::server {
namespace {

// The certificate and key go together and must be readable: said here,
// naming the file, rather than by lws's "vhost creation failed".
absl::Status CheckTlsFiles(const std::string& cert, const std::string& key) {
  if (cert.empty() && key.empty()) return absl::OkStatus();
  if (cert.empty() || key.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate and a key (--tls_cert and --tls_key, or tls_cert_file "
        "and tls_key_file)");
  }
  for (const std::string& file : {cert, key}) {
    if (access(file.c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read TLS file ", file, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CallsServer>> CallsServer::Start(const ServerOptions& options,
                                                                const Clock& clock) {
  ServerConfig config;
  if (!options.config_path.empty()) {
    ASSIGN_OR_RETURN(config, LoadServerConfig(options.config_path));
  } else if (options.demo_dir.empty()) {
    return absl::InvalidArgumentError("nothing to serve: give --config FILE or --demo_dir DIR");
  }
  if (options.listen) config.listen = *options.listen;
  if (options.port) config.port = *options.port;
  if (config.port < 0 || config.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--port ", config.port, " is not 0 to 65535"));
  }
  for (const auto& [flag, value] :
       {std::pair{"--ringing_timeout_s", options.ringing_timeout_s},
        std::pair{"--reconnect_window_s", options.reconnect_window_s}}) {
    if (value && (*value < kMinCallTimerSeconds || *value > kMaxCallTimerSeconds)) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " ", *value, " is not ", kMinCallTimerSeconds, " to ", kMaxCallTimerSeconds));
    }
  }
  CallRouterOptions call_options;
  call_options.ringing_timeout = options.ringing_timeout_s
                                     ? absl::Seconds(*options.ringing_timeout_s)
                                     : config.ringing_timeout;
  call_options.reconnect_window = options.reconnect_window_s
                                      ? absl::Seconds(*options.reconnect_window_s)
                                      : config.reconnect_window;
  std::string db_path = options.db_path.value_or(config.database);
  if (db_path.empty() && !options.demo_dir.empty()) {
    db_path = absl::StrCat(options.demo_dir, "/calls-server.db");
  }
  if (db_path.empty()) {
    return absl::InvalidArgumentError("no database: give --db FILE or `database` in the config");
  }

  if (options.tls_cert) config.tls_cert_file = *options.tls_cert;
  if (options.tls_key) config.tls_key_file = *options.tls_key;
  RETURN_IF_ERROR(CheckTlsFiles(config.tls_cert_file, config.tls_key_file));

  if (config.apps.ids().empty() && options.demo_dir.empty()) {
    return absl::InvalidArgumentError("no apps: add [[apps]] to the config or use --demo_dir");
  }

  std::unique_ptr<CallsServer> server(new CallsServer());
  server->apps_ = std::make_unique<AppRegistry>(std::move(config.apps));
  if (!options.demo_dir.empty()) RETURN_IF_ERROR(MakeDirs(options.demo_dir, 0700));
  ASSIGN_OR_RETURN(server->store_, Store::Open(db_path));
  LOG(INFO) << "database " << db_path << " (schema version " << Store::kSchemaVersion << ")";
  if (!options.demo_dir.empty()) {
    RETURN_IF_ERROR(SetUpDemo(options.demo_dir, server->store_.get(), server->apps_.get(), clock));
  }
  LOG(INFO) << "apps: " << absl::StrJoin(server->apps_->ids(), ", ");

  // Pushes: a client of the push endpoints (https, or plain http to loopback).
  LwsHttpClientOptions push_options;
  push_options.user_agent = "calls-server/0.1";
  push_options.thread_name = "calls-push";
  ASSIGN_OR_RETURN(server->push_http_, LwsHttpClient::Create(push_options));
  server->scheduler_ = std::make_unique<LwsScheduler>(&clock);
  server->pusher_ = std::make_unique<PushSender>(server->store_.get(), server->push_http_.get(),
                                                 server->scheduler_.get());

  // Signaling: the WebSocket endpoint and the call router.
  CallsServer* self = server.get();
  server->ws_ = std::make_unique<WsEndpoint>(
      [self](absl::string_view app_id, absl::string_view key) {
        return self->api_->CheckSession(app_id, key);
      });
  server->router_ =
      std::make_unique<CallRouter>(server->store_.get(), server->scheduler_.get(),
                                   server->ws_.get(), server->pusher_.get(), call_options);
  server->rooms_ = std::make_unique<RoomRouter>(server->store_.get(), server->scheduler_.get(),
                                                server->ws_.get(), call_options.reconnect_window);
  server->router_->set_rooms(server->rooms_.get());
  server->ws_->set_router(server->router_.get());
  ASSIGN_OR_RETURN(const int recovered, server->router_->Recover());
  LOG(INFO) << "calls: ringing timeout " << absl::FormatDuration(call_options.ringing_timeout)
            << ", reconnect window " << absl::FormatDuration(call_options.reconnect_window)
            << ", " << recovered << " call(s) in progress";

  ApiOptions api_options;
  api_options.session_token_lifetime = config.session_token_lifetime;
  api_options.max_push_tokens_per_type = config.push_tokens_per_type;
  server->api_ = std::make_unique<Api>(server->store_.get(), server->apps_.get(), &clock,
                                       api_options, server->router_.get(), server->rooms_.get());

  LwsHttpServer::Options http_options;
  http_options.listen = config.listen;
  http_options.port = config.port;
  http_options.max_body_bytes = api_options.max_body_bytes;
  http_options.extra_protocols = {server->scheduler_->protocol(), server->ws_->protocol()};
  http_options.vhost_options = server->ws_->vhost_options();
  http_options.tls_cert_file = config.tls_cert_file;
  http_options.tls_key_file = config.tls_key_file;
  ASSIGN_OR_RETURN(server->http_, LwsHttpServer::Create(http_options, server->api_.get()));
  server->scheduler_->Attach(server->http_->context());
  const bool tls = !config.tls_cert_file.empty();
  LOG(INFO) << "calls-server listening on " << config.listen << ":" << server->port()
            << (tls ? " (HTTPS REST and WSS /v1/ws, certificate " + config.tls_cert_file + ")"
                    : " (REST and WebSocket /v1/ws)");

  if (!options.port_file.empty()) {
    RETURN_IF_ERROR(
        WriteFileAtomically(options.port_file, absl::StrCat(server->port(), "\n"), 0644));
  }
  return server;
}

CallsServer::~CallsServer() {
  // The service loop has stopped (or never ran). Connections that close
  // while the context goes away must not reach the router, and nothing
  // queued may run any more.
  if (ws_) ws_->set_router(nullptr);
  if (scheduler_) scheduler_->Shutdown();
  http_.reset();
  // Completes the pushes in flight; their completions are dropped by the
  // stopped scheduler.
  push_http_.reset();
  pusher_.reset();
  api_.reset();
  router_.reset();
  rooms_.reset();
  ws_.reset();
  scheduler_.reset();
  store_.reset();
}

int RunCallsServer(const ServerOptions& options) {
  if (absl::Status s = InstallSignalPipe({SIGTERM, SIGINT}); !s.ok()) {
    std::fprintf(stderr, "calls-server: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  absl::StatusOr<std::unique_ptr<CallsServer>> server = CallsServer::Start(options, RealClock());
  if (!server.ok()) {
    std::fprintf(stderr, "calls-server: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }

  std::thread waiter([&server] {
    const int sig = WaitForSignal();
    if (sig == 0) return;  // the server stopped by itself
    LOG(INFO) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", shutting down";
    (*server)->RequestStop();
  });

  absl::Status served = (*server)->Run();
  WakeSignalWaiter();  // if no signal came
  waiter.join();
  server->reset();
  if (!served.ok()) {
    std::fprintf(stderr, "calls-server: %s\n", std::string(served.message()).c_str());
    return 1;
  }
  LOG(INFO) << "calls-server stopped";
  return 0;
}

}  // namespace callsd::server
