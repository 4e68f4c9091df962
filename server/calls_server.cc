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

namespace callsd::server {

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
  std::string db_path = options.db_path.value_or(config.database);
  if (db_path.empty() && !options.demo_dir.empty()) {
    db_path = absl::StrCat(options.demo_dir, "/calls-server.db");
  }
  if (db_path.empty()) {
    return absl::InvalidArgumentError("no database: give --db FILE or `database` in the config");
  }

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

  ApiOptions api_options;
  api_options.session_token_lifetime = config.session_token_lifetime;
  api_options.max_push_tokens_per_type = config.push_tokens_per_type;
  server->api_ = std::make_unique<Api>(server->store_.get(), server->apps_.get(), &clock,
                                       api_options);

  LwsHttpServer::Options http_options;
  http_options.listen = config.listen;
  http_options.port = config.port;
  http_options.max_body_bytes = api_options.max_body_bytes;
  ASSIGN_OR_RETURN(server->http_, LwsHttpServer::Create(http_options, server->api_.get()));
  LOG(INFO) << "calls-server listening on " << config.listen << ":" << server->port();

  if (!options.port_file.empty()) {
    RETURN_IF_ERROR(
        WriteFileAtomically(options.port_file, absl::StrCat(server->port(), "\n"), 0644));
  }
  return server;
}

CallsServer::~CallsServer() {
  http_.reset();
  api_.reset();
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
