// Time and sequencing behind interfaces, so that the domain never reads the
// wall clock or starts threads itself and tests run on simulated time.
#ifndef CALLSD_COMMON_SCHEDULER_H_
#define CALLSD_COMMON_SCHEDULER_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace callsd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual absl::Time Now() const = 0;
};

// The process's real clock. Never null; lives forever.
const Clock& RealClock();

using TimerId = uint64_t;
using Task = absl::AnyInvocable<void() &&>;

// Runs tasks one at a time, in order, on one sequence (the daemon's engine
// thread). Everything the domain owns is touched only from tasks on it.
class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // Thread-safe. Runs `task` after the tasks already posted. Tasks posted
  // after shutdown began are destroyed without running.
  virtual void Post(Task task) = 0;

  // Thread-safe. Runs `task` at `when` (as soon as possible when `when` has
  // passed). The id is never 0 and never reused.
  virtual TimerId RunAt(absl::Time when, Task task) = 0;

  // Thread-safe. Cancels a timer that has not started; a no-op for 0, for a
  // timer that already ran and for one that is running.
  virtual void Cancel(TimerId id) = 0;

  // The clock that RunAt's times refer to.
  virtual const Clock& clock() const = 0;

  TimerId RunAfter(absl::Duration delay, Task task) {
    return RunAt(clock().Now() + delay, std::move(task));
  }
};

}  // namespace callsd

#endif  // CALLSD_COMMON_SCHEDULER_H_
