// calls-server's configuration file (TOML); see config/calls-server.conf for
// every key and its meaning.
#ifndef CALLSD_SERVER_CONFIG_H_
#define CALLSD_SERVER_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app_registry.h"

namespace callsd::server {

struct ServerConfig {
  std::string listen = "127.0.0.1";
  int port = 8080;
  // Empty when the file names none.
  std::string database;
  // HTTPS and WSS when both are set: PEM certificate (chain) and private
  // key files. Both or neither; empty: plain HTTP and WS.
  std::string tls_cert_file;
  std::string tls_key_file;
  absl::Duration session_token_lifetime = absl::Hours(24 * 7);
  int push_tokens_per_type = 20;
  // A call that nobody answers ends (no_answer) after this long.
  absl::Duration ringing_timeout = absl::Seconds(60);
  // How long a call waits for a side whose WebSocket dropped to resume it.
  absl::Duration reconnect_window = absl::Seconds(15);
  // The [[apps]], with the SHA-256 of the master token read from each
  // api_token_file (the tokens themselves are not kept).
  AppRegistry apps;
};

// Bounds of ringing_timeout_s and reconnect_window_s (also for the flags).
inline constexpr int kMinCallTimerSeconds = 1;
inline constexpr int kMaxCallTimerSeconds = 3600;

// Master tokens shorter than this are refused.
inline constexpr size_t kMinMasterTokenBytes = 16;

// Loads and validates the file at `path`. Relative paths in it are relative
// to the file's folder. INVALID_ARGUMENT with one line naming the file and
// the key, e.g.
//   config x.conf: apps[0].api_token_file: cannot read /nope: No such file or directory
// for syntax errors (with line and column), unknown keys, wrong types, out
// of range values and unreadable token files.
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_CONFIG_H_
