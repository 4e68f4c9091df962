#include "client-lib/callsctl/token.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace callsd::ctl {
namespace {

absl::Status FileError(int err, const std::string& file) {
  std::string message = absl::StrCat("cannot read the token file ", file, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& file) {
  int fd;
  do {
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return FileError(errno, file);
  std::string data;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return FileError(err, file);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxTokenBytes) break;
  }
  ::close(fd);
  return data;
}

}  // namespace

absl::StatusOr<std::string> ReadToken(const TokenSource& source, std::istream& in) {
  std::string data;
  std::string where;
  if (source.from_stdin) {
    where = "on standard input";
    char buf[4096];
    while (data.size() <= kMaxTokenBytes && in.read(buf, sizeof(buf)).gcount() > 0) {
      data.append(buf, static_cast<size_t>(in.gcount()));
    }
  } else {
    where = absl::StrCat("in ", source.file);
    absl::StatusOr<std::string> read = ReadFile(source.file);
    if (!read.ok()) return read.status();
    data = *std::move(read);
  }
  if (data.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token ", where, " is longer than ", kMaxTokenBytes, " bytes"));
  }
  absl::StripTrailingAsciiWhitespace(&data);
  if (data.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the token ", where, " is empty"));
  }
  return data;
}

}  // namespace callsd::ctl
