// The daemon's configuration: defaults, the TOML file, command-line
// overrides, validation. See config/callsd.conf for every key.
#ifndef CALLSD_DAEMON_CONFIG_CONFIG_H_
#define CALLSD_DAEMON_CONFIG_CONFIG_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace callsd::daemon {

struct Config {
  // [daemon]
  std::string socket_path;   // daemon.socket
  std::string socket_group;  // daemon.socket_group: name or number; "" keeps the daemon's gid
  std::string state_dir;     // daemon.state_dir
  int watcher_queue = 1024;  // daemon.watcher_queue: events a watcher may fall behind

  // [server]
  std::string server_url;           // server.url
  std::string ca_file;              // server.ca_file: extra CA bundle (PEM)
  bool allow_insecure_http = false; // server.allow_insecure_http: plain http to non-loopback hosts
  // server.tls_verify: check the server's certificate (chain and host
  // name). false is refused for a non-loopback host unless
  // server.allow_unverified_tls is true too; either way it is logged loudly.
  bool tls_verify = true;
  bool allow_unverified_tls = false;  // server.allow_unverified_tls
  absl::Duration request_timeout = absl::Seconds(10);  // server.request_timeout_ms

  // [session]
  absl::Duration token_refresh_lead = absl::Seconds(60);  // session.refresh_lead_s
  absl::Duration retry_initial = absl::Seconds(1);        // session.retry_initial_ms
  absl::Duration retry_max = absl::Seconds(60);           // session.retry_max_ms

  // [calls]
  absl::Duration ringing_timeout = absl::Seconds(60);   // calls.ringing_timeout_s
  absl::Duration reconnect_window = absl::Seconds(15);  // calls.reconnect_window_s

  // [push]
  // The built-in push endpoint: "HOST:PORT" on loopback (port 0: any free
  // port), or "" (off, the default). Its URL can be registered as a push
  // token when no push distributor bridge runs.
  std::string push_endpoint;  // push.endpoint

  // [provision] — for kiosks: the daemon initializes and logs in by itself.
  std::string provision_app_id;      // provision.app_id
  std::string provision_user;        // provision.user_id
  // File holding the user's access token; "credential:NAME" reads NAME from
  // $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
  std::string provision_token_file;  // provision.access_token_file

  // [access]
  // "group": socket group members may use call control; "operators": only
  // the admin tier may.
  std::string control_tier = "group";            // access.control
  std::vector<std::string> operator_users;       // access.operator_users (names or uids)
  std::vector<std::string> operator_groups;      // access.operator_groups (names or gids)
  // Who may deliver pushes (DeliverPush), when narrower than call control:
  // the push distributor bridge's users and groups. Both empty: call control.
  std::vector<std::string> push_distributor_users;   // access.push_distributor_users
  std::vector<std::string> push_distributor_groups;  // access.push_distributor_groups

  // Resolved at load from the names above.
  gid_t socket_gid = static_cast<gid_t>(-1);  // -1: keep the daemon's own
  std::vector<uid_t> operator_uids;
  std::vector<gid_t> operator_gids;
  std::vector<uid_t> push_distributor_uids;
  std::vector<gid_t> push_distributor_gids;
};

// Default paths: the system instance (root) uses /run/callsd and
// /var/lib/callsd; any other user $XDG_RUNTIME_DIR/callsd and
// $XDG_STATE_HOME/callsd (~/.local/state/callsd).
Config DefaultConfig();

// Builds the configuration: defaults, then `path`'s TOML (skipped when
// empty), then each override (a TOML fragment such as
// `server.url = "http://127.0.0.1:8080"`). INVALID_ARGUMENT with one line
// naming the file and key for anything wrong, including unknown keys and
// users/groups that do not exist.
absl::StatusOr<Config> LoadConfig(const std::string& path,
                                  const std::vector<std::string>& overrides);

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_CONFIG_CONFIG_H_
