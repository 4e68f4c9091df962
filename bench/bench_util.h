// Helpers shared by the benchmarks: latency samples and percentiles, and
// child processes.
#ifndef CALLSD_BENCH_BENCH_UTIL_H_
#define CALLSD_BENCH_BENCH_UTIL_H_

#include <sys/types.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace callsd::bench {

// Latencies of one kind of operation, in nanoseconds.
class Samples {
 public:
  void Add(absl::Duration d) { ns_.push_back(absl::ToInt64Nanoseconds(d)); }
  size_t size() const { return ns_.size(); }
  // q in [0, 1]; microseconds.
  double PercentileUs(double q) {
    if (ns_.empty()) return 0;
    std::sort(ns_.begin(), ns_.end());
    const size_t i = std::min(ns_.size() - 1, static_cast<size_t>(q * (ns_.size() - 1) + 0.5));
    return ns_[i] / 1000.0;
  }

 private:
  std::vector<int64_t> ns_;
};

// Starts `argv` with stdout/stderr to `log`; returns the pid (exits on error).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log);
// SIGTERM and wait.
void StopChild(pid_t pid);
// Waits up to 20 s for a Unix socket at `path` to accept connections.
bool WaitForSocket(const std::string& path);
// Resident set size of `pid` in KiB (from /proc), 0 if unknown.
long RssKib(pid_t pid);

// (What a process holds, RSS, threads and fds: tests/load/load_clients.h.)

// Raises this process's RLIMIT_NOFILE soft limit to the hard limit (children
// inherit it); the new soft limit.
long RaiseFdLimit();

}  // namespace callsd::bench

#endif  // CALLSD_BENCH_BENCH_UTIL_H_
