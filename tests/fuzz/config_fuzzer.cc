// Fuzz target: the daemon's configuration (daemon/config/config.h
// LoadConfig), from a config file and `--set` overrides. The input is the
// file's text, then each override after a NUL byte (TOML text has none).
// The file is an in-memory file (memfd) read through /proc/self/fd, so the
// real path through TomlReader::ParseFile is taken without touching the
// disk. Properties: no crash; a refusal is INVALID_ARGUMENT naming the
// config; an accepted config holds what Validate promises.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/config/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// One memfd for the whole run, rewritten for each input.
int ConfigFd() {
  static const int fd = memfd_create("callsd-fuzz-config", MFD_CLOEXEC);
  return fd;
}

void WriteAll(int fd, absl::string_view text) {
  FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = pwrite(fd, text.data() + done, text.size() - done, done);
    FUZZ_CHECK(n > 0, "pwrite");
    done += static_cast<size_t>(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> parts = absl::StrSplit(input, '\0');
  if (parts.empty()) parts.emplace_back();  // absl splits a null view into nothing
  const int fd = ConfigFd();
  FUZZ_CHECK(fd >= 0, "memfd_create");
  WriteAll(fd, parts[0]);
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());

  absl::StatusOr<callsd::daemon::Config> config = callsd::daemon::LoadConfig(path, overrides);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument,
               config.status().ToString());
    FUZZ_CHECK(absl::StartsWith(config.status().message(), "config "),
               config.status().ToString());
    return 0;
  }
  FUZZ_CHECK(!config->socket_path.empty() && config->socket_path[0] == '/' &&
                 config->socket_path.size() < 108,
             config->socket_path);
  FUZZ_CHECK(!config->state_dir.empty() && config->state_dir[0] == '/', config->state_dir);
  FUZZ_CHECK(config->watcher_queue >= 16, "watcher_queue");
  FUZZ_CHECK(config->retry_initial <= config->retry_max, "retry bounds");
  FUZZ_CHECK(config->request_timeout > absl::ZeroDuration(), "request_timeout");
  FUZZ_CHECK(config->control_tier == "group" || config->control_tier == "operators",
             config->control_tier);
  FUZZ_CHECK(config->operator_uids.size() == config->operator_users.size(), "operator_uids");
  FUZZ_CHECK(config->operator_gids.size() == config->operator_groups.size(), "operator_gids");
  return 0;
}
