// The daemon's listening Unix socket, and the accept loop that reads each
// connection's peer credentials before handing it to gRPC.
#ifndef CALLSD_DAEMON_RPC_UNIX_LISTENER_H_
#define CALLSD_DAEMON_RPC_UNIX_LISTENER_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "daemon/rpc/peer_access.h"

namespace grpc {
class Server;
}

namespace callsd::daemon::rpc {

class UnixListener {
 public:
  // Creates the socket at `path`: the parent folder (0755) when missing;
  // refuses when a live daemon answers on it or another daemon holds
  // PATH.lock; replaces a stale socket of a dead daemon; binds, sets mode
  // 0660 and group `gid` (unless -1), then listens. Errors name the path.
  static absl::StatusOr<std::unique_ptr<UnixListener>> Bind(const std::string& path, gid_t gid);

  // Adopts a listening socket passed by systemd socket activation (fd 3
  // with LISTEN_FDS=1). nullopt-equivalent: returns nullptr when the
  // process was not socket-activated; an error when the fd is not a
  // listening Unix stream socket.
  static absl::StatusOr<std::unique_ptr<UnixListener>> FromSocketActivation();

  // Closes the socket; removes the path when Bind created it.
  ~UnixListener();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool activated() const { return activated_; }

 private:
  UnixListener(int fd, std::string path, int lock_fd, bool activated)
      : fd_(fd), path_(std::move(path)), lock_fd_(lock_fd), activated_(activated) {}

  const int fd_;
  const std::string path_;
  const int lock_fd_;
  const bool activated_;
};

// Accepts connections on a listening socket on its own thread: reads the
// peer's credentials, refuses peers that may not even read (closing the
// connection at once), records the others in `peers` and hands the fd to
// gRPC with AddInsecureChannelFromFd.
class PeerAcceptor {
 public:
  // Nothing is owned; all must outlive the acceptor.
  PeerAcceptor(int listen_fd, grpc::Server* server, PeerRegistry* peers, AccessPolicy policy);
  ~PeerAcceptor();  // Stop()

  void Start();
  // Stops accepting and joins the thread. Idempotent.
  void Stop();

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  void Run();

  const int listen_fd_;
  grpc::Server* const server_;
  PeerRegistry* const peers_;
  const AccessPolicy policy_;
  int wake_fd_ = -1;  // eventfd that ends Run()
  std::thread thread_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_UNIX_LISTENER_H_
