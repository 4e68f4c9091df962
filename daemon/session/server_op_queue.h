// ServerOpQueue: server-side clean-up that must eventually happen even if
// the server is down or the daemon restarts first: unregistering push
// tokens and ending session keys after logout.
//
// Operations run one at a time, oldest first (an unregistration must reach
// the server before the session key that authorises it is ended). A stored
// operation (id != 0) that cannot reach the server stays in SQLite and is
// retried with capped backoff, across restarts, until the server answers;
// an unstored one (id == 0, best effort) is tried once.
//
// Engine sequence only.
#ifndef CALLSD_DAEMON_SESSION_SERVER_OP_QUEUE_H_
#define CALLSD_DAEMON_SESSION_SERVER_OP_QUEUE_H_

#include <deque>
#include <functional>
#include <list>
#include <set>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/scheduler.h"
#include "daemon/backend/backend.h"
#include "daemon/store/state_store.h"

namespace callsd::daemon {

class ServerOpQueue {
 public:
  struct Options {
    absl::Duration retry_initial = absl::Seconds(1);
    absl::Duration retry_max = absl::Seconds(60);
    // Execute() answers at the latest this long after it was called.
    absl::Duration first_try_deadline = absl::Seconds(11);
  };
  // `confirmed`: every operation was acknowledged by the server;
  // `pending`: how many are still queued for retry.
  using Done = absl::AnyInvocable<void(bool confirmed, int pending) &&>;

  ServerOpQueue(Scheduler* engine, StateStore* store, Backend* backend, Options options);
  ~ServerOpQueue();

  // Loads the stored operations and starts working on them.
  absl::Status Start();
  // Stops retrying; answers waiting callers.
  void Shutdown();

  // Queues `ops` (already stored when their id is set) and answers `done`
  // once each has been tried, as soon as the server turns out unreachable,
  // or at the first-try deadline, whichever comes first.
  void Execute(std::vector<PendingOp> ops, Done done);

  // The APP_ID changed and the store was wiped: forgets every operation.
  void Clear();

  // Tries the next operation now instead of at its backoff time (the server
  // was seen reachable).
  void RetryNow();

  // Runs `callback` once the queue is empty (at once if it is).
  void WhenDrained(absl::AnyInvocable<void() &&> callback);

  // Stored operations not yet done.
  int pending() const;
  // Nothing queued (stored or not).
  bool empty() const { return queue_.empty(); }

 private:
  struct Entry {
    uint64_t seq = 0;
    PendingOp op;
  };
  struct Waiter {
    std::set<uint64_t> remaining;
    bool all_confirmed = true;
    Done done;
    TimerId deadline = 0;
  };

  void Pump();
  void OnResult(uint64_t seq, absl::Status status);
  void Finish(const Entry& entry, bool confirmed, bool dropped);
  void Send(const Entry& entry);
  void AnswerWaiters();
  void RunDrainedCallbacks();

  Scheduler* const engine_;
  StateStore* const store_;
  Backend* const backend_;
  const Options options_;

  std::deque<Entry> queue_;
  uint64_t next_seq_ = 1;
  bool in_flight_ = false;
  uint64_t in_flight_seq_ = 0;
  bool shut_down_ = false;
  Backoff backoff_;
  TimerId retry_timer_ = 0;
  std::list<Waiter> waiters_;
  std::vector<absl::AnyInvocable<void() &&>> drained_;
  // Bumped by Clear(): answers for operations of an earlier generation are
  // ignored.
  uint64_t generation_ = 0;
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_SESSION_SERVER_OP_QUEUE_H_
