// Simulated time for unit tests: nothing runs until the test says so, and
// time moves only when the test advances it. Deterministic; never sleeps.
#ifndef CALLSD_COMMON_TESTING_SIMULATED_SCHEDULER_H_
#define CALLSD_COMMON_TESTING_SIMULATED_SCHEDULER_H_

#include <deque>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/scheduler.h"

namespace callsd::testing {

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

class SimulatedScheduler final : public Scheduler {
 public:
  SimulatedScheduler() = default;

  void Post(Task task) override {
    absl::MutexLock lock(&mu_);
    ready_.push_back(std::move(task));
  }
  TimerId RunAt(absl::Time when, Task task) override {
    absl::MutexLock lock(&mu_);
    const TimerId id = next_id_++;
    timers_.emplace(std::make_pair(when, id), std::move(task));
    due_.emplace(id, when);
    return id;
  }
  void Cancel(TimerId id) override {
    absl::MutexLock lock(&mu_);
    auto it = due_.find(id);
    if (it == due_.end()) return;
    timers_.erase(std::make_pair(it->second, id));
    due_.erase(it);
  }
  const Clock& clock() const override { return clock_; }

  // Runs posted tasks and timers that are due now, until none is left.
  // Returns how many ran.
  int RunUntilIdle() {
    int ran = 0;
    while (Task task = Next(clock_.Now())) {
      std::move(task)();
      ++ran;
    }
    return ran;
  }

  // Moves time forward by `d`, stopping at each timer on the way to run it
  // (and whatever it posts) at its due time.
  void AdvanceBy(absl::Duration d) { AdvanceTo(clock_.Now() + d); }
  void AdvanceTo(absl::Time target) {
    RunUntilIdle();
    for (;;) {
      absl::Time next;
      {
        absl::MutexLock lock(&mu_);
        if (timers_.empty() || timers_.begin()->first.first > target) break;
        next = timers_.begin()->first.first;
      }
      if (next > clock_.Now()) clock_.Set(next);
      RunUntilIdle();
    }
    if (target > clock_.Now()) clock_.Set(target);
    RunUntilIdle();
  }

  // When the earliest pending timer is due, or InfiniteFuture() if none.
  absl::Time NextTimerAt() const {
    absl::MutexLock lock(&mu_);
    return timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
  }
  size_t pending_timers() const {
    absl::MutexLock lock(&mu_);
    return timers_.size();
  }

 private:
  Task Next(absl::Time now) {
    absl::MutexLock lock(&mu_);
    if (!ready_.empty()) {
      Task t = std::move(ready_.front());
      ready_.pop_front();
      return t;
    }
    if (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto node = timers_.extract(timers_.begin());
      due_.erase(node.key().second);
      return std::move(node.mapped());
    }
    return nullptr;
  }

  SimulatedClock clock_;
  mutable absl::Mutex mu_;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Task> ready_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<absl::Time, TimerId>, Task> timers_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> due_ ABSL_GUARDED_BY(mu_);
};

}  // namespace callsd::testing

#endif  // CALLSD_COMMON_TESTING_SIMULATED_SCHEDULER_H_
