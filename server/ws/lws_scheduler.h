// LwsScheduler: a Scheduler whose sequence is the libwebsockets service
// thread of calls-server, so that the call router, the WebSocket
// connections and the HTTP API share one thread and need no locks between
// them.
//
// Post() and RunAt() may be called from any thread: they queue the task and
// wake the service loop with lws_cancel_service() (the only thread-safe lws
// entry point); the loop runs what is ready from the
// LWS_CALLBACK_EVENT_WAIT_CANCELLED callback of protocol(), and due timers
// from one lws_sorted_usec_list timer that always points at the earliest.
//
// Add protocol() to the vhost (LwsHttpServer::Options::extra_protocols),
// then Attach() the context once it exists. Before Attach() tasks wait.
#ifndef CALLSD_SERVER_WS_LWS_SCHEDULER_H_
#define CALLSD_SERVER_WS_LWS_SCHEDULER_H_

#include <libwebsockets.h>

#include <deque>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/scheduler.h"

namespace callsd::server {

class LwsScheduler final : public Scheduler {
 public:
  // `clock` must outlive the scheduler; RunAt's times refer to it.
  explicit LwsScheduler(const Clock* clock = &RealClock());
  // Drops what has not run. The context must be gone, or Shutdown() called.
  ~LwsScheduler() override;

  LwsScheduler(const LwsScheduler&) = delete;
  LwsScheduler& operator=(const LwsScheduler&) = delete;

  // The lws protocol that runs the tasks (it accepts no connection). Its
  // `user` points at this scheduler.
  lws_protocols protocol();

  // Thread-safe. Starts running tasks on `context`'s service thread.
  void Attach(lws_context* context);

  // Stops for good: tasks queued and posted later are destroyed without
  // running. Call on the service thread, or when the service loop has
  // stopped, before the context is destroyed. Idempotent.
  void Shutdown();

  // Scheduler. Thread-safe.
  void Post(Task task) override;
  TimerId RunAt(absl::Time when, Task task) override;
  void Cancel(TimerId id) override;
  const Clock& clock() const override { return *clock_; }

 private:
  // `sul` first in a standard-layout struct: lws hands back its address.
  struct TimerSlot {
    lws_sorted_usec_list_t sul;
    LwsScheduler* self;
  };

  // Service thread: runs what is ready and due, then sets the lws timer to
  // the next due time.
  void RunReady();
  // Wakes the service loop. Holds mu_ (so that the context cannot go away).
  void WakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  static int Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  static void OnTimer(lws_sorted_usec_list_t* sul);

  // Constant after construction.
  const Clock* const clock_;

  // Service thread only (and Shutdown()).
  TimerSlot slot_ = {};

  absl::Mutex mu_;
  lws_context* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Task> ready_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<absl::Time, TimerId>, Task> timers_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> due_ ABSL_GUARDED_BY(mu_);
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_WS_LWS_SCHEDULER_H_
