// EventBus: fans the domain's events out to every watcher, in order, with
// sequence numbers, and keeps the State that GetState answers with.
//
// Threading: Publish, StateChanged, Subscribe and CloseAll run on the engine
// sequence; state() and the subscriber side are thread-safe. Delivery to a
// subscriber never blocks the engine: a subscriber that falls more than its
// queue limit behind is dropped (it is told why through Close).
#ifndef CALLSD_DAEMON_RPC_EVENT_BUS_H_
#define CALLSD_DAEMON_RPC_EVENT_BUS_H_

#include <functional>
#include <memory>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "callsd/v1/callsd.pb.h"
#include "common/scheduler.h"
#include "daemon/events/events.h"

namespace callsd::daemon::rpc {

// An event as published: the message, and its wire bytes serialised once
// for every watcher (copies of a ByteBuffer share the bytes).
struct PublishedEvent {
  callsd::v1::Event event;
  grpc::ByteBuffer bytes;
};
using EventPtr = std::shared_ptr<const PublishedEvent>;

// Serialises `event` once.
EventPtr MakePublishedEvent(callsd::v1::Event event);

class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;
  // Takes the next event. Must not block. false: the subscriber is gone or
  // overflowed (it closed itself) and the bus forgets it.
  virtual bool Deliver(EventPtr event) = 0;
  // The bus ends the stream with `status` (shutdown).
  virtual void Close(const absl::Status& status) = 0;
};

class EventBus final : public EventSink {
 public:
  // Fills a State from the domain; runs on the engine sequence.
  using StateBuilder = std::function<void(callsd::v1::State*)>;

  // `fanout`: the sequence that writes events to the subscribers, so that
  // a hundred watchers cost the engine one post per event instead of a
  // hundred stream writes (a ring or a state change is not held up behind
  // them). Every subscriber operation runs there, in the order the engine
  // asked for it. nullptr: on the engine, inline (unit tests).
  EventBus(const Clock& clock, StateBuilder builder, Scheduler* fanout = nullptr);

  // Called on the engine sequence with the new State after every change
  // (for sd_notify STATUS=). Set before the first change.
  void SetObserver(std::function<void(const callsd::v1::State&)> observer) {
    observer_ = std::move(observer);
  }

  // EventSink (engine sequence).
  void Publish(DomainEvent event) override;
  void StateChanged() override;

  // Engine sequence: delivers a snapshot (carrying the latest sequence
  // number) to `subscriber`, then every later event (on the fan-out
  // sequence).
  void Subscribe(std::shared_ptr<EventSubscriber> subscriber);

  // Any thread (with a fan-out sequence; inline without one): forgets
  // `subscriber` (its stream ended) at once rather
  // than at the next event, so that a daemon whose watchers went away
  // holds nothing for them even when no event follows. Unknown ones are
  // ignored (a subscription that had not been added yet is refused by its
  // own Deliver).
  void Unsubscribe(const EventSubscriber* subscriber);

  // Called on the fan-out sequence each time the last subscriber is gone
  // (dropped, ended or unsubscribed): the daemon returns the memory that
  // the watchers' streams used to the system then. Set before Subscribe.
  void SetIdleHook(std::function<void()> hook) { idle_hook_ = std::move(hook); }

  // Engine sequence: closes every subscriber with `status` and refuses new
  // ones the same way.
  void CloseAll(const absl::Status& status);

  // Thread-safe: the State as of the latest change (event_seq included).
  std::shared_ptr<const callsd::v1::State> state() const;

  // Thread-safe, for tests and metrics. With a fan-out sequence it lags
  // the engine by the deliveries still queued there.
  size_t subscriber_count() const;
  uint64_t last_seq() const;

 private:
  void Broadcast(EventPtr event);
  void RebuildState();
  // Runs `task` on the fan-out sequence (inline without one).
  void OnFanout(absl::AnyInvocable<void() &&> task);
  void UpdateCount();

  // Constant after construction.
  const Clock& clock_;
  const StateBuilder builder_;
  Scheduler* const fanout_;

  // Engine sequence only.
  std::function<void(const callsd::v1::State&)> observer_;
  absl::Status closed_;

  // Fan-out sequence only.
  std::vector<std::shared_ptr<EventSubscriber>> subscribers_;
  std::function<void()> idle_hook_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const callsd::v1::State> state_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  size_t subscriber_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_EVENT_BUS_H_
