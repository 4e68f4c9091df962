// Small file helpers for secrets and the port file.
#ifndef CALLSD_SERVER_FILE_UTIL_H_
#define CALLSD_SERVER_FILE_UTIL_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace callsd::server {

// Reads a file that holds one secret (a token) and strips trailing
// whitespace. NOT_FOUND when the file does not exist; FAILED_PRECONDITION
// "cannot read PATH: <strerror>" for other I/O errors, "PATH is empty" when
// nothing is left, or a file over 4 KiB. The secret is never logged.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// Writes `content` to `path` atomically: a temporary file in the same folder
// with `mode`, fsync, then rename over `path`. FAILED_PRECONDITION naming
// the path on error.
absl::Status WriteFileAtomically(const std::string& path, const std::string& content,
                                 mode_t mode);

// Creates `path` (and missing parents) as folders with `mode`; OK when it
// already exists as a folder.
absl::Status MakeDirs(const std::string& path, mode_t mode);

// The folder part of `path` ("." when there is none).
std::string DirName(const std::string& path);

// `path` if absolute, else `base_dir`/`path`.
std::string ResolvePath(const std::string& base_dir, const std::string& path);

}  // namespace callsd::server

#endif  // CALLSD_SERVER_FILE_UTIL_H_
