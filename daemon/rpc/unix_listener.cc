#include "daemon/rpc/unix_listener.h"

#include <fcntl.h>
#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace callsd::daemon::rpc {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat("socket ", path, ": ", what, ": ", std::strerror(errno)));
}

sockaddr_un Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// True when something accepts connections on `path`.
bool SomeoneListens(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr = Address(path);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Bind(const std::string& path,
                                                                  gid_t gid) {
  if (path.empty() || path[0] != '/' || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket ", path, ": must be an absolute path under 108 bytes"));
  }
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Errno(absl::StrCat("cannot create folder ", dir), path);
  }

  // Two daemons starting at once: only the lock holder goes on.
  const std::string lock_path = path + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Errno(absl::StrCat("cannot open ", lock_path), path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return absl::FailedPreconditionError(
        absl::StrCat("socket ", path, " belongs to another running callsd (", lock_path,
                     " is locked)"));
  }

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(lock_fd);
      return absl::FailedPreconditionError(
          absl::StrCat("socket ", path, ": a file that is not a socket is in the way"));
    }
    if (SomeoneListens(path)) {
      ::close(lock_fd);
      return absl::FailedPreconditionError(
          absl::StrCat("socket ", path, " is served by another running callsd"));
    }
    LOG(INFO) << "replacing the stale socket " << path << " of a daemon that is gone";
    ::unlink(path.c_str());
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::close(lock_fd);
    return Errno("socket()", path);
  }
  auto fail = [&](absl::string_view what) {
    absl::Status status = Errno(what, path);
    ::close(fd);
    ::unlink(path.c_str());
    ::close(lock_fd);
    return status;
  };
  sockaddr_un addr = Address(path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status status = Errno("bind", path);
    ::close(fd);
    ::close(lock_fd);
    return status;
  }
  // Mode and group are right before anyone can connect (listen comes last).
  if (::chmod(path.c_str(), 0660) != 0) return fail("chmod 0660");
  if (gid != static_cast<gid_t>(-1) && ::chown(path.c_str(), -1, gid) != 0) {
    return fail(absl::StrCat("chown to group ", gid));
  }
  if (::listen(fd, SOMAXCONN) != 0) return fail("listen");
  return std::unique_ptr<UnixListener>(new UnixListener(fd, path, lock_fd, false));
}

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::FromSocketActivation() {
  const int n = sd_listen_fds(/*unset_environment=*/1);
  if (n < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("socket activation: ", std::strerror(-n)));
  }
  if (n == 0) return std::unique_ptr<UnixListener>();
  if (n > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("socket activation passed ", n, " sockets; expected 1"));
  }
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, /*listening=*/1, nullptr, 0) <= 0) {
    return absl::FailedPreconditionError(
        "socket activation passed an fd that is not a listening Unix stream socket");
  }
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  std::string path;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 && addr.sun_path[0]) {
    path = addr.sun_path;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return std::unique_ptr<UnixListener>(new UnixListener(fd, path, -1, true));
}

UnixListener::~UnixListener() {
  ::close(fd_);
  if (!activated_) {
    ::unlink(path_.c_str());
    ::close(lock_fd_);
  }
}

// --- PeerAcceptor -----------------------------------------------------------

PeerAcceptor::PeerAcceptor(int listen_fd, grpc::Server* server, PeerRegistry* peers,
                           AccessPolicy policy)
    : listen_fd_(listen_fd), server_(server), peers_(peers), policy_(std::move(policy)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PCHECK(wake_fd_ >= 0) << "eventfd";
}

PeerAcceptor::~PeerAcceptor() {
  Stop();
  ::close(wake_fd_);
}

void PeerAcceptor::Start() { thread_ = std::thread([this] { Run(); }); }

void PeerAcceptor::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

void PeerAcceptor::Run() {
  pthread_setname_np(pthread_self(), "callsd-accept");
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      PLOG(ERROR) << "poll on the daemon socket";
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    // gRPC needs non-blocking fds: a blocking one hangs every RPC.
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      PLOG(WARNING) << "accept on the daemon socket";
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: give connections in flight a moment to close.
        pollfd wake{wake_fd_, POLLIN, 0};
        if (::poll(&wake, 1, 100) > 0) return;
      }
      continue;
    }
    auto creds = ReadPeerCredentials(fd);
    if (!creds.ok()) {
      LOG(WARNING) << "refused a connection: " << creds.status();
      ::close(fd);
      ++refused_;
      continue;
    }
    if (!policy_.Allows(*creds, Tier::kRead)) {
      LOG(WARNING) << "refused a connection from uid " << creds->uid << " gid " << creds->gid
                   << " pid " << creds->pid << ": not in the socket group";
      ::close(fd);
      ++refused_;
      continue;
    }
    VLOG(1) << "connection on fd " << fd << " from uid " << creds->uid << " pid " << creds->pid;
    // Recorded before gRPC sees the fd: handlers look it up by "fd:N".
    peers_->Record(fd, *std::move(creds));
    ++accepted_;
    grpc::AddInsecureChannelFromFd(server_, fd);
  }
}

}  // namespace callsd::daemon::rpc
