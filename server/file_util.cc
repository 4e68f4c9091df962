#include "server/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace callsd::server {
namespace {

constexpr size_t kMaxSecretBytes = 4096;

absl::Status IoError(absl::string_view what, const std::string& path, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(err)));
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(IoError("read", path, errno).message());
    return IoError("read", path, errno);
  }
  std::string content;
  char buf[1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return IoError("read", path, err);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxSecretBytes) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is larger than ", kMaxSecretBytes, " bytes"));
    }
  }
  close(fd);
  absl::StripTrailingAsciiWhitespace(&content);
  if (content.empty()) return absl::FailedPreconditionError(absl::StrCat(path, " is empty"));
  return content;
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content,
                                 mode_t mode) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return IoError("create", tmp, errno);
  // O_CREAT leaves the mode of an existing file alone.
  if (fchmod(fd, mode) != 0) {
    int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return IoError("chmod", tmp, err);
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return IoError("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return IoError("write", tmp, err);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return IoError("rename to", path, err);
  }
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path, mode_t mode) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a folder"));
  }
  const std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") {
    absl::Status status = MakeDirs(parent, mode);
    if (!status.ok()) return status;
  }
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return IoError("create", path, errno);
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return absl::StrCat(base_dir, "/", path);
}

}  // namespace callsd::server
