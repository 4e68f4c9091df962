// Crash points: a TEST HOOK that lets the crash-point test kill a process
// with SIGKILL at the N-th step boundary it passes, chosen by count rather
// than by time (tests/integration/crash_points_test.cc).
//
// A step boundary is a place where a crash leaves a distinct state behind:
// before and after each SQLite write and commit, each REST request sent and
// answered, each WebSocket message sent and received, each session or call
// state change. The code marks one with FaultPoint("where").
//
// The hook is off unless the process was started with one of:
//   CALLSD_TEST_CRASH_AT_STEP=N       raise SIGKILL at the N-th step (N >= 1)
//   CALLSD_TEST_CRASH_STEPS_FILE=PATH after each step, PATH holds
//                                     "<steps so far> <where>\n" (so a test
//                                     learns how many steps a scenario has,
//                                     and where a crash happened)
// They are read once, before main(). Invalid values are reported on stderr
// and leave the hook off. Never set them in production: they exist to prove
// that a crash at any step leaves a consistent state.
//
// Cost when off: one relaxed atomic load per step. Thread-safe: steps may
// be passed from any thread; they are counted in the order they happen.
#ifndef CALLSD_COMMON_FAULT_POINT_H_
#define CALLSD_COMMON_FAULT_POINT_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace callsd {

namespace fault_point_internal {
extern std::atomic<bool> armed;
void Step(const char* where);
}  // namespace fault_point_internal

// Marks a step boundary named `where` (a string literal; it ends up in the
// steps file). Does nothing unless the test hook is on.
inline void FaultPoint(const char* where) {
  if (fault_point_internal::armed.load(std::memory_order_relaxed)) {
    fault_point_internal::Step(where);
  }
}

struct FaultPointConfig {
  std::optional<int64_t> crash_at_step;  // SIGKILL at this step
  std::string steps_file;                // "" for none
};

// Parses the two environment values (nullptr when unset). An error names the
// variable and what is wrong with it; nullopt when the hook stays off.
absl::StatusOr<std::optional<FaultPointConfig>> ParseFaultPointConfig(const char* crash_at_step,
                                                                      const char* steps_file);

// Turns the hook on with `config` (or off with nullopt) and restarts the
// count at zero. For tests of the hook itself; the process calls it once
// from the environment before main(). Not to be called while other threads
// pass steps.
void SetFaultPointsForTest(std::optional<FaultPointConfig> config);

// Steps passed since the hook was turned on.
int64_t FaultPointSteps();

}  // namespace callsd

#endif  // CALLSD_COMMON_FAULT_POINT_H_
