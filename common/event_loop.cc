#include "common/event_loop.h"

#include <pthread.h>

#include "absl/synchronization/notification.h"

namespace callsd {

namespace {

class RealClockImpl final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

const Clock& RealClock() {
  static const RealClockImpl* const clock = new RealClockImpl();
  return *clock;
}

EventLoop::EventLoop(std::string name) : name_(std::move(name)) {
  thread_ = std::thread([this] { Run(); });
  thread_id_ = thread_.get_id();
  pthread_setname_np(thread_.native_handle(), name_.substr(0, 15).c_str());
}

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Post(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  ready_.push_back(std::move(task));
}

TimerId EventLoop::RunAt(absl::Time when, Task task) {
  absl::MutexLock lock(&mu_);
  const TimerId id = next_id_++;
  if (stopping_) return id;
  timers_.emplace(std::make_pair(when, id), std::move(task));
  timer_due_.emplace(id, when);
  return id;
}

void EventLoop::Cancel(TimerId id) {
  absl::MutexLock lock(&mu_);
  auto it = timer_due_.find(id);
  if (it == timer_due_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_due_.erase(it);
}

void EventLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool EventLoop::RunSync(absl::AnyInvocable<void() &&> task) {
  absl::Notification done;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    // Tasks posted before Stop() always run: the loop drains them first.
    ready_.push_back([&]() mutable {
      std::move(task)();
      done.Notify();
    });
  }
  done.WaitForNotification();
  return true;
}

void EventLoop::Run() {
  for (;;) {
    Task task;
    std::map<std::pair<absl::Time, TimerId>, Task> dropped;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (!ready_.empty()) {
          task = std::move(ready_.front());
          ready_.pop_front();
          break;
        }
        if (stopping_) {
          // Pending timers are dropped (destroyed outside the lock).
          dropped.swap(timers_);
          timer_due_.clear();
          break;
        }
        const absl::Time now = absl::Now();
        if (!timers_.empty() && timers_.begin()->first.first <= now) {
          auto node = timers_.extract(timers_.begin());
          timer_due_.erase(node.key().second);
          task = std::move(node.mapped());
          break;
        }
        const absl::Time deadline =
            timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
        // Wake for a new task, for stop, or for a timer earlier than the one
        // being waited for.
        auto wake = [this, deadline]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !ready_.empty() || stopping_ ||
                 (!timers_.empty() && timers_.begin()->first.first < deadline);
        };
        mu_.AwaitWithDeadline(absl::Condition(&wake), deadline);
      }
    }
    if (!task) return;  // stopping
    std::move(task)();
  }
}

}  // namespace callsd
