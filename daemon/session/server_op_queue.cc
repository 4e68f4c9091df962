#include "daemon/session/server_op_queue.h"

#include <algorithm>

#include "common/calls_error.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

const char* KindName(PendingOp::Kind kind) {
  switch (kind) {
    case PendingOp::Kind::kUnregisterPush: return "unregister push token";
    case PendingOp::Kind::kUnregisterAllPush: return "unregister all push tokens";
    case PendingOp::Kind::kEndSession: return "end session";
  }
  return "?";
}

bool IsDeadKey(const absl::Status& status) {
  const std::optional<int> code = GetCallsCode(status);
  return code && (*code == kCodeInvalidAccessToken || *code == kCodeSessionKeyExpired ||
                  *code == kCodeSessionTokenRevoked);
}

}  // namespace

ServerOpQueue::ServerOpQueue(Scheduler* engine, StateStore* store, Backend* backend,
                             Options options)
    : engine_(engine),
      store_(store),
      backend_(backend),
      options_(options),
      backoff_(options.retry_initial, options.retry_max) {}

ServerOpQueue::~ServerOpQueue() {
  engine_->Cancel(retry_timer_);
  for (Waiter& w : waiters_) engine_->Cancel(w.deadline);
}

absl::Status ServerOpQueue::Start() {
  auto ops = store_->LoadPendingOps();
  if (!ops.ok()) return ops.status();
  for (PendingOp& op : *ops) queue_.push_back(Entry{next_seq_++, std::move(op)});
  if (!queue_.empty()) {
    LOG(INFO) << queue_.size() << " server operation(s) from an earlier run still to do";
  }
  Pump();
  return absl::OkStatus();
}

void ServerOpQueue::Shutdown() {
  shut_down_ = true;
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
  AnswerWaiters();
  for (Waiter& w : waiters_) {
    engine_->Cancel(w.deadline);
    if (w.done) std::move(w.done)(false, pending());
  }
  waiters_.clear();
}

void ServerOpQueue::Execute(std::vector<PendingOp> ops, Done done) {
  Waiter waiter;
  waiter.done = std::move(done);
  for (PendingOp& op : ops) {
    const uint64_t seq = next_seq_++;
    waiter.remaining.insert(seq);
    queue_.push_back(Entry{seq, std::move(op)});
  }
  if (waiter.remaining.empty() || shut_down_) {
    std::move(waiter.done)(waiter.remaining.empty(), pending());
    return;
  }
  waiters_.push_back(std::move(waiter));
  auto it = std::prev(waiters_.end());
  it->deadline = engine_->RunAfter(options_.first_try_deadline, [this, it] {
    it->deadline = 0;
    Done d = std::move(it->done);
    waiters_.erase(it);
    if (d) std::move(d)(false, pending());
  });
  // Fresh work is worth a try now, even if older work is backing off.
  RetryNow();
}

void ServerOpQueue::Clear() {
  ++generation_;
  queue_.clear();
  in_flight_ = false;
  engine_->Cancel(retry_timer_);
  retry_timer_ = 0;
  backoff_.Reset();
  for (Waiter& w : waiters_) {
    engine_->Cancel(w.deadline);
    if (w.done) std::move(w.done)(false, 0);
  }
  waiters_.clear();
  RunDrainedCallbacks();
}

void ServerOpQueue::RetryNow() {
  if (retry_timer_ != 0) {
    engine_->Cancel(retry_timer_);
    retry_timer_ = 0;
  }
  Pump();
}

void ServerOpQueue::WhenDrained(absl::AnyInvocable<void() &&> callback) {
  if (queue_.empty()) {
    std::move(callback)();
    return;
  }
  drained_.push_back(std::move(callback));
}

int ServerOpQueue::pending() const {
  return static_cast<int>(std::count_if(queue_.begin(), queue_.end(),
                                        [](const Entry& e) { return e.op.id != 0; }));
}

void ServerOpQueue::Pump() {
  if (shut_down_ || in_flight_ || retry_timer_ != 0 || queue_.empty()) return;
  Send(queue_.front());
}

void ServerOpQueue::Send(const Entry& entry) {
  in_flight_ = true;
  in_flight_seq_ = entry.seq;
  const uint64_t seq = entry.seq;
  const uint64_t generation = generation_;
  auto done = [this, seq, generation](absl::Status status) {
    if (generation != generation_) return;  // cleared meanwhile
    OnResult(seq, std::move(status));
  };
  const PendingOp& op = entry.op;
  VLOG(1) << KindName(op.kind) << " (operation " << op.id << ", attempt " << op.attempts + 1
          << ")";
  switch (op.kind) {
    case PendingOp::Kind::kUnregisterPush:
      backend_->UnregisterPushToken(op.creds, op.type, op.token, std::move(done));
      break;
    case PendingOp::Kind::kUnregisterAllPush:
      backend_->UnregisterAllPushTokens(op.creds, op.type, std::move(done));
      break;
    case PendingOp::Kind::kEndSession:
      backend_->EndSession(op.creds, std::move(done));
      break;
  }
}

void ServerOpQueue::OnResult(uint64_t seq, absl::Status status) {
  in_flight_ = false;
  if (queue_.empty() || queue_.front().seq != seq) return;
  Entry entry = std::move(queue_.front());
  queue_.pop_front();

  if (status.ok()) {
    backoff_.Reset();
    Finish(entry, /*confirmed=*/true, /*dropped=*/false);
  } else if (status.code() == absl::StatusCode::kUnavailable && entry.op.id != 0) {
    // Keep it, at the head, and try again later (after a restart when
    // shutting down: it stays stored). The server is out of reach, so
    // whoever waits is answered now: nothing behind it can go through.
    for (Waiter& w : waiters_) {
      if (w.remaining.empty()) continue;
      w.remaining.clear();
      w.all_confirmed = false;
    }
    if (shut_down_) {
      queue_.push_front(std::move(entry));
      AnswerWaiters();
      return;
    }
    ++entry.op.attempts;
    if (absl::Status s = store_->UpdatePendingOp(entry.op); !s.ok()) {
      LOG(ERROR) << "cannot record a retry: " << s;
    }
    const absl::Duration delay = backoff_.Next();
    LOG(WARNING) << KindName(entry.op.kind) << " could not reach the calls server ("
                 << status.message() << "); retrying in " << delay;
    queue_.push_front(std::move(entry));
    retry_timer_ = engine_->RunAfter(delay, [this] {
      retry_timer_ = 0;
      Pump();
    });
    AnswerWaiters();
    return;
  } else if (entry.op.kind == PendingOp::Kind::kEndSession && IsDeadKey(status)) {
    // Already ended (or expired) on the server: as good as confirmed.
    Finish(entry, /*confirmed=*/true, /*dropped=*/false);
  } else {
    // A definite answer that retrying cannot change (or a best-effort try).
    LOG(WARNING) << KindName(entry.op.kind) << " was not done: " << status;
    Finish(entry, /*confirmed=*/false, /*dropped=*/true);
  }
  Pump();
}

void ServerOpQueue::Finish(const Entry& entry, bool confirmed, bool dropped) {
  if (entry.op.id != 0) {
    if (absl::Status s = store_->DeletePendingOp(entry.op.id); !s.ok()) {
      LOG(ERROR) << "cannot delete a finished server operation: " << s;
    }
  }
  if (confirmed) VLOG(1) << KindName(entry.op.kind) << ": confirmed by the server";
  for (Waiter& w : waiters_) {
    if (w.remaining.erase(entry.seq) > 0 && !confirmed) w.all_confirmed = false;
  }
  AnswerWaiters();
  if (queue_.empty()) RunDrainedCallbacks();
}

void ServerOpQueue::AnswerWaiters() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (!it->remaining.empty()) {
      ++it;
      continue;
    }
    engine_->Cancel(it->deadline);
    Done done = std::move(it->done);
    const bool confirmed = it->all_confirmed;
    it = waiters_.erase(it);
    if (done) std::move(done)(confirmed, pending());
  }
}

void ServerOpQueue::RunDrainedCallbacks() {
  auto callbacks = std::move(drained_);
  drained_.clear();
  for (auto& c : callbacks) std::move(c)();
}

}  // namespace callsd::daemon
