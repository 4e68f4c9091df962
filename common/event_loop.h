// EventLoop: the real Scheduler, one thread running tasks and timers.
#ifndef CALLSD_COMMON_EVENT_LOOP_H_
#define CALLSD_COMMON_EVENT_LOOP_H_

#include <deque>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/scheduler.h"

namespace callsd {

class EventLoop final : public Scheduler {
 public:
  // Starts the thread, named `name` (at most 15 characters show in ps).
  // Times are on RealClock().
  explicit EventLoop(std::string name);
  // Stops and joins; see Stop().
  ~EventLoop() override;

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void Post(Task task) override;
  TimerId RunAt(absl::Time when, Task task) override;
  void Cancel(TimerId id) override;
  const Clock& clock() const override { return RealClock(); }

  // Runs the tasks already posted, then stops the thread and joins it.
  // Pending timers and later posts are dropped. Must not be called from the
  // loop's own thread. Idempotent.
  void Stop();

  // True when called from the loop's thread.
  bool IsCurrent() const { return std::this_thread::get_id() == thread_id_; }

  // Runs `task` on the loop and waits for it. Must not be called from the
  // loop's own thread; returns false (without running) after Stop().
  bool RunSync(absl::AnyInvocable<void() &&> task);

 private:
  void Run();

  // Constant after construction.
  const std::string name_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Task> ready_ ABSL_GUARDED_BY(mu_);
  // Timers ordered by (due time, id).
  std::map<std::pair<absl::Time, TimerId>, Task> timers_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> timer_due_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace callsd

#endif  // CALLSD_COMMON_EVENT_LOOP_H_
