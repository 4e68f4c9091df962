#include "daemon/rpc/event_bus.h"

#include <algorithm>

#include "daemon/rpc/byte_buffer_util.h"
#include "daemon/rpc/proto_conversion.h"

namespace callsd::daemon::rpc {

EventPtr MakePublishedEvent(callsd::v1::Event event) {
  auto published = std::make_shared<PublishedEvent>();
  published->event = std::move(event);
  SerializeToByteBuffer(published->event, &published->bytes);
  return published;
}

EventBus::EventBus(const Clock& clock, StateBuilder builder, Scheduler* fanout)
    : clock_(clock), builder_(std::move(builder)), fanout_(fanout) {
  RebuildState();
}

void EventBus::Publish(DomainEvent event) {
  callsd::v1::Event proto;
  const absl::Time now = clock_.Now();
  FillEvent(event, now, &proto);
  ToProto(now, proto.mutable_time());
  {
    absl::MutexLock lock(&mu_);
    proto.set_seq(++seq_);
  }
  RebuildState();
  Broadcast(MakePublishedEvent(std::move(proto)));
}

void EventBus::StateChanged() { RebuildState(); }

void EventBus::RebuildState() {
  auto state = std::make_shared<callsd::v1::State>();
  builder_(state.get());
  {
    absl::MutexLock lock(&mu_);
    state->set_event_seq(seq_);
    state_ = state;
  }
  if (observer_) observer_(*state);
}

void EventBus::OnFanout(absl::AnyInvocable<void() &&> task) {
  if (fanout_ == nullptr) {
    std::move(task)();
  } else {
    fanout_->Post(std::move(task));
  }
}

void EventBus::UpdateCount() {
  size_t before;
  {
    absl::MutexLock lock(&mu_);
    before = subscriber_count_;
    subscriber_count_ = subscribers_.size();
  }
  if (before > 0 && subscribers_.empty() && idle_hook_) idle_hook_();
}

void EventBus::Broadcast(EventPtr event) {
  OnFanout([this, event = std::move(event)] {
    // A subscriber that refuses is dropped; the others are not held up.
    subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                      [&](const std::shared_ptr<EventSubscriber>& s) {
                                        return !s->Deliver(event);
                                      }),
                       subscribers_.end());
    UpdateCount();
  });
}

void EventBus::Subscribe(std::shared_ptr<EventSubscriber> subscriber) {
  if (!closed_.ok()) {
    subscriber->Close(closed_);
    return;
  }
  callsd::v1::Event snapshot;
  {
    absl::MutexLock lock(&mu_);
    *snapshot.mutable_snapshot() = *state_;
    snapshot.set_seq(seq_);
  }
  ToProto(clock_.Now(), snapshot.mutable_time());
  // Queued behind the events published before this snapshot (which it
  // already covers) and ahead of every later one.
  OnFanout([this, subscriber = std::move(subscriber),
            event = MakePublishedEvent(std::move(snapshot))]() mutable {
    if (!subscriber->Deliver(std::move(event))) return;
    subscribers_.push_back(std::move(subscriber));
    UpdateCount();
  });
}

void EventBus::Unsubscribe(const EventSubscriber* subscriber) {
  OnFanout([this, subscriber] {
    auto it = std::find_if(subscribers_.begin(), subscribers_.end(),
                           [&](const std::shared_ptr<EventSubscriber>& s) {
                             return s.get() == subscriber;
                           });
    if (it == subscribers_.end()) return;
    subscribers_.erase(it);
    UpdateCount();
  });
}

void EventBus::CloseAll(const absl::Status& status) {
  closed_ = status;
  OnFanout([this, status] {
    std::vector<std::shared_ptr<EventSubscriber>> subscribers;
    subscribers.swap(subscribers_);
    for (auto& s : subscribers) s->Close(status);
    UpdateCount();
  });
}

std::shared_ptr<const callsd::v1::State> EventBus::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

size_t EventBus::subscriber_count() const {
  absl::MutexLock lock(&mu_);
  return subscriber_count_;
}

uint64_t EventBus::last_seq() const {
  absl::MutexLock lock(&mu_);
  return seq_;
}

}  // namespace callsd::daemon::rpc
