// calls-server: the reference Calls backend. Flags only; see calls_server.h.
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "glog/logging.h"
#include "server/calls_server.h"

ABSL_FLAG(std::string, config, "", "Configuration file (TOML), see config/calls-server.conf");
ABSL_FLAG(std::optional<std::string>, listen, std::nullopt,
          "IP address to listen on (default: the config's, else 127.0.0.1)");
ABSL_FLAG(std::optional<int>, port, std::nullopt,
          "Port to listen on; 0 for an ephemeral port (default: the config's, else 8080)");
ABSL_FLAG(std::string, port_file, "",
          "Write the bound port to this file (atomically) once listening");
ABSL_FLAG(std::optional<std::string>, db, std::nullopt,
          "SQLite database file (default: the config's `database`, else DEMO_DIR/calls-server.db)");
ABSL_FLAG(std::optional<int>, ringing_timeout_s, std::nullopt,
          "Seconds a call rings before it ends unanswered (default: the config's, else 60)");
ABSL_FLAG(std::optional<int>, reconnect_window_s, std::nullopt,
          "Seconds a call waits for a dropped WebSocket to resume it (default: the config's, "
          "else 15)");
ABSL_FLAG(std::optional<std::string>, tls_cert, std::nullopt,
          "PEM certificate (chain) file: serve HTTPS and WSS (with --tls_key; default: the "
          "config's tls_cert_file, else plain HTTP)");
ABSL_FLAG(std::optional<std::string>, tls_key, std::nullopt,
          "PEM private key file of --tls_cert (default: the config's tls_key_file)");
ABSL_FLAG(std::string, demo_dir, "",
          "Set up app demo-app and users alice and bob, with their secrets in this folder");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "calls-server --config FILE | --demo_dir DIR [--port N] [--port_file FILE] [--db FILE]\n"
      "             [--ringing_timeout_s N] [--reconnect_window_s N]\n"
      "             [--tls_cert FILE --tls_key FILE]\n"
      "Request logging: GLOG_v=1.");
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  callsd::server::ServerOptions options;
  options.config_path = absl::GetFlag(FLAGS_config);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.port = absl::GetFlag(FLAGS_port);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.db_path = absl::GetFlag(FLAGS_db);
  options.demo_dir = absl::GetFlag(FLAGS_demo_dir);
  options.ringing_timeout_s = absl::GetFlag(FLAGS_ringing_timeout_s);
  options.reconnect_window_s = absl::GetFlag(FLAGS_reconnect_window_s);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  return callsd::server::RunCallsServer(options);
}
