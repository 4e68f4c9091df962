#include "server/ws/lws_scheduler.h"

#include <algorithm>

namespace callsd::server {
namespace {

constexpr char kProtocolName[] = "calls-scheduler";

}  // namespace

LwsScheduler::LwsScheduler(const Clock* clock) : clock_(clock) { slot_.self = this; }

LwsScheduler::~LwsScheduler() {
  // Tasks are destroyed outside the lock (they may own things that post).
  std::deque<Task> ready;
  std::map<std::pair<absl::Time, TimerId>, Task> timers;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    context_ = nullptr;
    ready.swap(ready_);
    timers.swap(timers_);
    due_.clear();
  }
}

lws_protocols LwsScheduler::protocol() {
  lws_protocols p{};
  p.name = kProtocolName;
  p.callback = &LwsScheduler::Callback;
  p.per_session_data_size = 0;
  p.user = this;
  return p;
}

void LwsScheduler::Attach(lws_context* context) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  context_ = context;
  WakeLocked();
}

void LwsScheduler::Shutdown() {
  std::deque<Task> ready;
  std::map<std::pair<absl::Time, TimerId>, Task> timers;
  {
    absl::MutexLock lock(&mu_);
    if (context_ != nullptr) lws_sul_cancel(&slot_.sul);
    stopped_ = true;
    context_ = nullptr;
    ready.swap(ready_);
    timers.swap(timers_);
    due_.clear();
  }
}

void LwsScheduler::WakeLocked() {
  if (context_ != nullptr) lws_cancel_service(context_);
}

void LwsScheduler::Post(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return;  // `task` is destroyed after the lock is released
  ready_.push_back(std::move(task));
  WakeLocked();
}

TimerId LwsScheduler::RunAt(absl::Time when, Task task) {
  absl::MutexLock lock(&mu_);
  const TimerId id = next_id_++;
  if (stopped_) return id;
  timers_.emplace(std::make_pair(when, id), std::move(task));
  due_.emplace(id, when);
  WakeLocked();  // the service thread sets its timer again
  return id;
}

void LwsScheduler::Cancel(TimerId id) {
  Task dropped;
  absl::MutexLock lock(&mu_);
  auto it = due_.find(id);
  if (it == due_.end()) return;
  auto node = timers_.extract(std::make_pair(it->second, id));
  due_.erase(it);
  // The lws timer may fire for nothing; RunReady then sets it again.
  dropped = std::move(node.mapped());
}

void LwsScheduler::RunReady() {
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      if (!ready_.empty()) {
        task = std::move(ready_.front());
        ready_.pop_front();
      } else if (!timers_.empty() && timers_.begin()->first.first <= clock_->Now()) {
        auto node = timers_.extract(timers_.begin());
        due_.erase(node.key().second);
        task = std::move(node.mapped());
      } else {
        // Nothing more now: wake up for the next timer.
        if (timers_.empty()) {
          lws_sul_cancel(&slot_.sul);
        } else if (context_ != nullptr) {
          const absl::Duration wait =
              std::max(absl::ZeroDuration(), timers_.begin()->first.first - clock_->Now());
          // A millisecond late rather than early: lws timers have about
          // that resolution.
          const lws_usec_t us = absl::ToInt64Microseconds(wait) + 1000;
          lws_sul_schedule(context_, 0, &slot_.sul, &LwsScheduler::OnTimer, us);
        }
        return;
      }
    }
    std::move(task)();
  }
}

int LwsScheduler::Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                           size_t len) {
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      const lws_protocols* protocol = lws_get_protocol(wsi);
      if (protocol != nullptr && protocol->user != nullptr) {
        static_cast<LwsScheduler*>(protocol->user)->RunReady();
      }
      return 0;
    }
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
      return 1;  // an upgrade asking for this protocol by name is refused
    default:
      return 0;
  }
}

void LwsScheduler::OnTimer(lws_sorted_usec_list_t* sul) {
  reinterpret_cast<TimerSlot*>(sul)->self->RunReady();
}

}  // namespace callsd::server
