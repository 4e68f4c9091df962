#include "common/fault_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace callsd {
namespace fault_point_internal {

constinit std::atomic<bool> armed{false};

namespace {

ABSL_CONST_INIT absl::Mutex mu(absl::kConstInit);
int64_t steps ABSL_GUARDED_BY(mu) = 0;
std::optional<int64_t> crash_at ABSL_GUARDED_BY(mu);
int steps_fd ABSL_GUARDED_BY(mu) = -1;

// Plain write(2): the process may be about to die, and this must not
// allocate through a logging library that could itself be mid-crash.
void WriteAll(int fd, const std::string& text) {
  for (size_t off = 0; off < text.size();) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void RecordStep(int64_t count, const char* where) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
  if (steps_fd < 0) return;
  const std::string line = absl::StrCat(count, " ", where, "\n");
  if (::pwrite(steps_fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size())) {
    (void)!::ftruncate(steps_fd, static_cast<off_t>(line.size()));
  }
}

// Reads the environment once, before main(): a test starts the process with
// the variables set; nothing turns the hook on later.
[[maybe_unused]] const bool from_environment = [] {
  auto config = ParseFaultPointConfig(std::getenv("CALLSD_TEST_CRASH_AT_STEP"),
                                      std::getenv("CALLSD_TEST_CRASH_STEPS_FILE"));
  if (!config.ok()) {
    WriteAll(2, absl::StrCat("crash points (test hook) stay off: ", config.status().message(),
                             "\n"));
    return false;
  }
  SetFaultPointsForTest(*config);
  return armed.load();
}();

}  // namespace

void Step(const char* where) {
  absl::MutexLock lock(&mu);
  const int64_t count = ++steps;
  RecordStep(count, where);
  if (crash_at && count == *crash_at) {
    WriteAll(2, absl::StrCat("crash point (test hook): SIGKILL at step ", count, " (", where,
                             ")\n"));
    ::kill(::getpid(), SIGKILL);
  }
}

}  // namespace fault_point_internal

namespace fpi = fault_point_internal;

absl::StatusOr<std::optional<FaultPointConfig>> ParseFaultPointConfig(const char* crash_at_step,
                                                                      const char* steps_file) {
  const bool has_crash = crash_at_step != nullptr && *crash_at_step != '\0';
  const bool has_file = steps_file != nullptr && *steps_file != '\0';
  if (!has_crash && !has_file) return std::optional<FaultPointConfig>();
  FaultPointConfig config;
  if (has_crash) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(crash_at_step, &n) || n < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CALLSD_TEST_CRASH_AT_STEP must be a step number of 1 or more, not \"",
          absl::CHexEscape(crash_at_step), "\""));
    }
    config.crash_at_step = n;
  }
  if (has_file) config.steps_file = steps_file;
  return std::optional<FaultPointConfig>(std::move(config));
}

void SetFaultPointsForTest(std::optional<FaultPointConfig> config) {
  absl::MutexLock lock(&fpi::mu);
  fpi::armed.store(false);
  fpi::steps = 0;
  fpi::crash_at.reset();
  if (fpi::steps_fd >= 0) ::close(fpi::steps_fd);
  fpi::steps_fd = -1;
  if (!config) return;
  fpi::crash_at = config->crash_at_step;
  if (!config->steps_file.empty()) {
    fpi::steps_fd =
        ::open(config->steps_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fpi::steps_fd < 0) {
      fpi::WriteAll(2, absl::StrCat("crash points (test hook): cannot write ",
                                    config->steps_file, ": ", std::strerror(errno), "\n"));
    }
  }
  fpi::armed.store(true);
}

int64_t FaultPointSteps() {
  absl::MutexLock lock(&fpi::mu);
  return fpi::steps;
}

}  // namespace callsd
