// Daemon: the context that owns every component of callsd and starts and
// stops them in order (bitcoind's NodeContext, envoy's server instance).
//
//   Start():    state store -> engine -> HTTP client/backend -> session
//               (loads state, starts re-authentication) -> socket -> gRPC
//               server -> accept loop
//   Shutdown(): the reverse; every caller gets an answer (UNAVAILABLE for
//               work that cannot finish), watchers are ended, the socket is
//               removed.
#ifndef CALLSD_DAEMON_DAEMON_H_
#define CALLSD_DAEMON_DAEMON_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "daemon/config/config.h"

namespace callsd::daemon {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();  // Shutdown()

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Brings everything up; the daemon serves when this returns OK. On error
  // (naming the file, socket or key at fault) what was started is stopped.
  absl::Status Start();

  // Idempotent; safe after a failed Start().
  void Shutdown();

  // The socket path being served (from the config or socket activation).
  std::string socket_path() const;

  // One line for sd_notify STATUS= / logs ("logged in as alice").
  std::string StatusLine() const;

 private:
  // Initializes and logs in the user of the [provision] config, if any.
  absl::Status Provision();
  // WATCHDOG=1 every half WATCHDOG_USEC, from the engine sequence.
  void StartWatchdog();
  void PingWatchdog();

  struct Components;
  const Config config_;
  std::unique_ptr<Components> c_;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_DAEMON_H_
