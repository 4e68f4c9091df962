// EventBus: snapshot first, sequence numbers, order, dropping a subscriber
// that refuses, closing everyone.
#include "daemon/rpc/event_bus.h"

#include "common/testing/simulated_scheduler.h"
#include "gtest/gtest.h"

namespace callsd::daemon::rpc {
namespace {

class FakeSubscriber final : public EventSubscriber {
 public:
  explicit FakeSubscriber(size_t capacity = 1000) : capacity_(capacity) {}
  bool Deliver(EventPtr event) override {
    if (events.size() >= capacity_) {
      overflowed = true;
      return false;
    }
    events.push_back(event->event);
    EXPECT_GT(event->bytes.Length(), 0u) << "serialised once for the wire";
    return true;
  }
  void Close(const absl::Status& status) override { closed = status; }

  std::vector<callsd::v1::Event> events;
  absl::Status closed;
  bool overflowed = false;

 private:
  size_t capacity_;
};

SessionStateChanged Change(SessionState to, SessionState from) {
  return SessionStateChanged{to, from, "alice", "Alice", absl::OkStatus()};
}

TEST(EventBusTest, SnapshotFirstThenEventsInOrderWithSequenceNumbers) {
  ::callsd::testing::SimulatedClock clock;
  SessionState current = SessionState::kLoggedOut;
  EventBus bus(clock, [&](callsd::v1::State* s) {
    s->set_session_state(current == SessionState::kAuthenticated
                             ? callsd::v1::SESSION_STATE_AUTHENTICATED
                             : callsd::v1::SESSION_STATE_LOGGED_OUT);
  });
  current = SessionState::kAuthenticating;
  bus.Publish(Change(SessionState::kAuthenticating, SessionState::kLoggedOut));

  auto early = std::make_shared<FakeSubscriber>();
  bus.Subscribe(early);
  ASSERT_EQ(early->events.size(), 1u);
  EXPECT_TRUE(early->events[0].has_snapshot());
  EXPECT_EQ(early->events[0].seq(), 1u);
  EXPECT_EQ(early->events[0].snapshot().event_seq(), 1u);

  current = SessionState::kAuthenticated;
  bus.Publish(Change(SessionState::kAuthenticated, SessionState::kAuthenticating));
  bus.Publish(SessionTokenWillExpire{clock.Now()});
  ASSERT_EQ(early->events.size(), 3u);
  EXPECT_EQ(early->events[1].seq(), 2u);
  EXPECT_EQ(early->events[1].session_state_changed().state(),
            callsd::v1::SESSION_STATE_AUTHENTICATED);
  EXPECT_EQ(early->events[1].session_state_changed().user().user_id(), "alice");
  EXPECT_EQ(early->events[2].seq(), 3u);
  EXPECT_TRUE(early->events[2].has_session_token_will_expire());

  // GetState's view follows every change.
  EXPECT_EQ(bus.state()->session_state(), callsd::v1::SESSION_STATE_AUTHENTICATED);
  EXPECT_EQ(bus.state()->event_seq(), 3u);

  auto late = std::make_shared<FakeSubscriber>();
  bus.Subscribe(late);
  ASSERT_EQ(late->events.size(), 1u);
  EXPECT_EQ(late->events[0].seq(), 3u);
  EXPECT_EQ(late->events[0].snapshot().session_state(), callsd::v1::SESSION_STATE_AUTHENTICATED);
}

TEST(EventBusTest, ARefusingSubscriberIsDroppedWithoutHoldingUpOthers) {
  ::callsd::testing::SimulatedClock clock;
  EventBus bus(clock, [](callsd::v1::State*) {});
  auto slow = std::make_shared<FakeSubscriber>(/*capacity=*/3);
  auto fast = std::make_shared<FakeSubscriber>();
  bus.Subscribe(slow);
  bus.Subscribe(fast);
  EXPECT_EQ(bus.subscriber_count(), 2u);
  for (int i = 0; i < 10; ++i) bus.Publish(AppChanged{"a", "b"});
  EXPECT_TRUE(slow->overflowed);
  EXPECT_EQ(slow->events.size(), 3u);
  EXPECT_EQ(fast->events.size(), 11u);
  EXPECT_EQ(bus.subscriber_count(), 1u);
}

// A watcher whose stream ended is forgotten at once, not at the next event
// (a quiet daemon would otherwise hold every dead watcher), and the idle
// hook runs each time the last one goes, whichever way it went.
TEST(EventBusTest, UnsubscribeForgetsAtOnceAndTheLastOneGoingRunsTheIdleHook) {
  ::callsd::testing::SimulatedClock clock;
  EventBus bus(clock, [](callsd::v1::State*) {});
  int idle = 0;
  bus.SetIdleHook([&] { ++idle; });
  auto a = std::make_shared<FakeSubscriber>();
  auto b = std::make_shared<FakeSubscriber>(/*capacity=*/1);
  bus.Subscribe(a);
  bus.Subscribe(b);
  ASSERT_EQ(bus.subscriber_count(), 2u);

  bus.Unsubscribe(a.get());
  EXPECT_EQ(bus.subscriber_count(), 1u);
  EXPECT_EQ(idle, 0) << "b is still there";
  bus.Unsubscribe(a.get());  // twice, or never subscribed: ignored
  EXPECT_EQ(bus.subscriber_count(), 1u);

  bus.Publish(AppChanged{"a", "b"});  // b overflows and is dropped: the last one
  EXPECT_TRUE(b->overflowed);
  EXPECT_EQ(bus.subscriber_count(), 0u);
  EXPECT_EQ(idle, 1);
  EXPECT_EQ(a->events.size(), 1u) << "nothing after its unsubscription";

  auto c = std::make_shared<FakeSubscriber>();
  bus.Subscribe(c);
  bus.Unsubscribe(c.get());
  EXPECT_EQ(idle, 2);
}

TEST(EventBusTest, CloseAllEndsEveryoneAndRefusesNewSubscribers) {
  ::callsd::testing::SimulatedClock clock;
  EventBus bus(clock, [](callsd::v1::State*) {});
  auto a = std::make_shared<FakeSubscriber>();
  bus.Subscribe(a);
  bus.CloseAll(absl::UnavailableError("shutting down"));
  EXPECT_EQ(a->closed.code(), absl::StatusCode::kUnavailable);
  auto b = std::make_shared<FakeSubscriber>();
  bus.Subscribe(b);
  EXPECT_EQ(b->closed.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(b->events.empty());
  EXPECT_EQ(bus.subscriber_count(), 0u);
}

// With a fan-out sequence the engine only queues: nothing reaches a
// subscriber until that sequence runs, and then each one gets its snapshot
// and exactly the events published after it, in order; a close queued
// behind them comes last.
TEST(EventBusTest, FanoutSequenceKeepsEachSubscribersOrder) {
  ::callsd::testing::SimulatedScheduler fanout;
  const Clock& clock = fanout.clock();
  EventBus bus(clock, [](callsd::v1::State*) {}, &fanout);

  bus.Publish(SessionTokenWillExpire{clock.Now()});  // seq 1, before anyone
  auto first = std::make_shared<FakeSubscriber>();
  bus.Subscribe(first);
  bus.Publish(SessionTokenRequired{});  // seq 2
  auto second = std::make_shared<FakeSubscriber>();
  bus.Subscribe(second);
  bus.Publish(SessionTokenWillExpire{clock.Now()});  // seq 3
  EXPECT_TRUE(first->events.empty()) << "the engine only queued the work";
  EXPECT_EQ(bus.last_seq(), 3u);

  fanout.RunUntilIdle();
  ASSERT_EQ(first->events.size(), 3u);
  EXPECT_TRUE(first->events[0].has_snapshot());
  EXPECT_EQ(first->events[0].seq(), 1u);
  EXPECT_EQ(first->events[1].seq(), 2u);
  EXPECT_EQ(first->events[2].seq(), 3u);
  ASSERT_EQ(second->events.size(), 2u);
  EXPECT_EQ(second->events[0].seq(), 2u);
  EXPECT_TRUE(second->events[0].has_snapshot());
  EXPECT_EQ(second->events[1].seq(), 3u);
  EXPECT_EQ(bus.subscriber_count(), 2u);

  bus.CloseAll(absl::UnavailableError("shutting down"));
  EXPECT_TRUE(first->closed.ok()) << "closed only when the fan-out runs";
  fanout.RunUntilIdle();
  EXPECT_EQ(first->closed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second->closed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(bus.subscriber_count(), 0u);
}

}  // namespace
}  // namespace callsd::daemon::rpc
