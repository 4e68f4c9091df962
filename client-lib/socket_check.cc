// The gRPC-free half of libcallsclient: socket discovery and checking, and
// the ErrorInfo payload of absl::Status.
#include <errno.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "callsd/client.h"

namespace callsd::client {
namespace {

absl::Status ErrorWithHint(absl::StatusCode code, absl::string_view message,
                           absl::string_view hint) {
  callsd::v1::ErrorInfo info;
  info.set_message(std::string(message));
  info.set_hint(std::string(hint));
  return WithErrorInfo(absl::Status(code, message), info);
}

bool PathExists(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0;
}

// The name of group `gid`, or its number when it has no name.
std::string GroupName(gid_t gid) {
  struct group grp;
  struct group* result = nullptr;
  std::vector<char> buf(4096);
  if (::getgrgid_r(gid, &grp, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
    return result->gr_name;
  }
  return absl::StrCat(gid);
}

constexpr absl::string_view kStartHint =
    "start callsd (systemctl start callsd.socket, or systemctl --user start callsd.socket "
    "for a per-user instance), or name the right socket with --socket or $CALLSD_SOCKET";

}  // namespace

std::string DefaultSocketPath() {
  const char* env = std::getenv("CALLSD_SOCKET");
  if (env != nullptr && env[0] != '\0') return env;
  if (PathExists(kSystemSocketPath)) return kSystemSocketPath;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && xdg[0] != '\0') return absl::StrCat(xdg, "/callsd/callsd.sock");
  return kSystemSocketPath;
}

absl::Status CheckDaemonSocket(absl::string_view socket_path) {
  if (socket_path.empty()) {
    return ErrorWithHint(absl::StatusCode::kInvalidArgument, "no callsd socket path given",
                         "name the socket with --socket or $CALLSD_SOCKET");
  }
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof(addr));
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return ErrorWithHint(
        absl::StatusCode::kInvalidArgument,
        absl::StrFormat("callsd socket path %s is too long (%d bytes; a Unix socket path "
                        "holds at most %d)",
                        socket_path, socket_path.size(), sizeof(addr.sun_path) - 1),
        "use a shorter path");
  }
  const std::string path(socket_path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a Unix socket: ", std::strerror(errno)));
  }
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const struct sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  // EAGAIN: the listen backlog is full; someone listens (a busy daemon).
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return absl::OkStatus();

  struct stat st;
  const bool stat_ok = ::stat(path.c_str(), &st) == 0;
  const int stat_err = stat_ok ? 0 : errno;
  switch (err) {
    case ENOENT:
      return ErrorWithHint(
          absl::StatusCode::kUnavailable,
          absl::StrCat("callsd is not running: socket ", path, " does not exist"), kStartHint);
    case ECONNREFUSED:
      if (stat_ok && !S_ISSOCK(st.st_mode)) {
        return ErrorWithHint(absl::StatusCode::kUnavailable,
                             absl::StrCat(path, " is not a socket"),
                             "name callsd's socket with --socket or $CALLSD_SOCKET");
      }
      return ErrorWithHint(
          absl::StatusCode::kUnavailable,
          absl::StrCat("callsd is not running: nobody listens on ", path,
                       " (a stale socket: the daemon stopped or crashed)"),
          "restart callsd (systemctl restart callsd, or systemctl --user restart callsd)");
    case EACCES:
    case EPERM: {
      std::string why;
      std::string group = "callsd";
      if (stat_ok) {
        group = GroupName(st.st_gid);
        why = absl::StrFormat(" (the socket belongs to group '%s', mode %04o)", group,
                              st.st_mode & 07777);
      } else if (stat_err == EACCES) {
        why = " (a directory on the path is not accessible)";
      }
      return ErrorWithHint(
          absl::StatusCode::kPermissionDenied,
          absl::StrCat("permission denied on callsd socket ", path, why),
          absl::StrFormat("ask an administrator to add you to the socket's group (sudo usermod "
                          "-aG %s $USER), then log in again",
                          group));
    }
    case ENOTDIR:
      return ErrorWithHint(absl::StatusCode::kUnavailable,
                           absl::StrCat("cannot reach callsd socket ", path,
                                        ": a component of the path is not a directory"),
                           kStartHint);
    default:
      return ErrorWithHint(absl::StatusCode::kUnavailable,
                           absl::StrCat("cannot connect to callsd socket ", path, ": ",
                                        std::strerror(err)),
                           kStartHint);
  }
}

std::optional<callsd::v1::ErrorInfo> GetErrorInfo(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);  // absl::optional, not std::
  if (!payload.has_value()) return std::nullopt;
  callsd::v1::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

absl::Status WithErrorInfo(absl::Status status, const callsd::v1::ErrorInfo& info) {
  if (status.ok()) return status;
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

}  // namespace callsd::client
