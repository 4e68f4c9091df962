// CallsServer: owns calls-server's components and starts and stops them in
// order (configuration, store, demo setup, push sender, call and room
// routers, API, HTTP + WebSocket transport).
//
// Threads: the caller of Run() is the libwebsockets service thread; the
// HTTP API, the WebSocket connections, the routers and their timers all
// run there (LwsScheduler). The push sender's HTTP client has a thread of
// its own, whose completions are posted back to the service thread.
#ifndef CALLSD_SERVER_CALLS_SERVER_H_
#define CALLSD_SERVER_CALLS_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/http/lws_http_client.h"
#include "common/http/lws_http_server.h"
#include "common/scheduler.h"
#include "server/app_registry.h"
#include "server/calls/call_router.h"
#include "server/calls/room_router.h"
#include "server/http/api.h"
#include "server/push/push_sender.h"
#include "server/store/store.h"
#include "server/ws/lws_scheduler.h"
#include "server/ws/ws_endpoint.h"

namespace callsd::server {

using ::callsd::httpd::LwsHttpServer;

// What the command line says; unset values come from the config file, then
// from the defaults.
struct ServerOptions {
  std::string config_path;                // --config; "" for none
  std::optional<std::string> listen;      // --listen
  std::optional<int> port;                // --port (0: ephemeral)
  std::string port_file;                  // --port_file; "" for none
  std::optional<std::string> db_path;     // --db
  std::string demo_dir;                   // --demo_dir; "" for none
  std::optional<int> ringing_timeout_s;   // --ringing_timeout_s
  std::optional<int> reconnect_window_s;  // --reconnect_window_s
  std::optional<std::string> tls_cert;    // --tls_cert
  std::optional<std::string> tls_key;     // --tls_key
};

class CallsServer {
 public:
  // Loads the configuration, opens the store, sets up the demo, binds the
  // port and writes the port file. The error names what failed (the config
  // file and key, the database file, the address); the caller prints it.
  // `clock` must outlive the server.
  static absl::StatusOr<std::unique_ptr<CallsServer>> Start(const ServerOptions& options,
                                                            const Clock& clock);

  ~CallsServer();

  // The port the HTTP server listens on.
  int port() const { return http_->port(); }

  // Serves on the calling thread until RequestStop().
  absl::Status Run() { return http_->Run(); }

  // Thread-safe; Run() returns soon after.
  void RequestStop() { http_->Stop(); }

 private:
  CallsServer() = default;

  // Destroyed in this order (see ~CallsServer): transport, push client,
  // push sender, API, call router, room router, WebSocket endpoint,
  // scheduler, store.
  std::unique_ptr<AppRegistry> apps_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LwsScheduler> scheduler_;
  std::unique_ptr<WsEndpoint> ws_;
  std::unique_ptr<CallRouter> router_;
  std::unique_ptr<RoomRouter> rooms_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<LwsHttpClient> push_http_;
  std::unique_ptr<PushSender> pusher_;
  std::unique_ptr<LwsHttpServer> http_;
};

// main() of calls-server after flag parsing: starts, serves until SIGTERM or
// SIGINT, stops. Returns the process exit code (0 after a clean shutdown, 1
// when starting or serving failed, with one line on stderr saying why).
int RunCallsServer(const ServerOptions& options);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_CALLS_SERVER_H_
