// The world of the CallRegistry tests (calls and rooms): the real Session
// and CallRegistry over a fake state store, backend and channel (the test
// plays the server), on simulated time.
#ifndef CALLSD_TESTS_UNIT_DAEMON_FAKES_REGISTRY_FIXTURE_H_
#define CALLSD_TESTS_UNIT_DAEMON_FAKES_REGISTRY_FIXTURE_H_

#include <memory>
#include <utility>
#include <vector>

#include "common/testing/simulated_scheduler.h"
#include "daemon/calls/call_registry.h"
#include "gtest/gtest.h"
#include "tests/unit/daemon/fakes/answer.h"
#include "tests/unit/daemon/fakes/fake_backend.h"
#include "tests/unit/daemon/fakes/fake_call_channel.h"
#include "tests/unit/daemon/fakes/fake_state_store.h"
#include "tests/unit/daemon/fakes/recording_event_sink.h"

namespace callsd::daemon::testing {

// Ends sessions without any server work.
class NullEnder final : public SessionEnder {
 public:
  std::vector<PendingOp> PlanEnd(const SessionCredentials&, bool) override { return {}; }
  void Execute(std::vector<PendingOp>, absl::AnyInvocable<void(bool, int) &&> done) override {
    std::move(done)(true, 0);
  }
};

class RegistryFixture : public ::testing::Test {
 protected:
  RegistryFixture() { Build(); }

  // (Re)creates the Session and the CallRegistry over the same fakes.
  void Build() {
    session_ = std::make_unique<Session>(&scheduler_, &store_, &backend_, &ender_, &events_,
                                         Session::Options{});
    CallRegistry::Options options;
    options.ringing_timeout = absl::Seconds(60);
    options.reconnect_window = absl::Seconds(15);
    options.request_timeout = absl::Seconds(10);
    calls_ = std::make_unique<CallRegistry>(&scheduler_, &store_, &backend_, &channel_,
                                            session_.get(), &events_, options);
    session_->AddListener(calls_.get());
    ASSERT_TRUE(calls_->Start().ok());
    ASSERT_TRUE(session_->Start().ok());
    scheduler_.RunUntilIdle();
  }

  void Init() {
    Answer<Session::InitResult> init;
    session_->Init("app", init.Callback());
    scheduler_.RunUntilIdle();
  }

  // Init, then bob logs in; the missed-push recovery finds nothing ringing.
  void LoginBob() {
    Init();
    Answer<SessionSnapshot> login;
    session_->Authenticate("bob", TokenKind::kAccessToken, "tok", login.Callback());
    scheduler_.RunUntilIdle();
    backend_.AnswerAuth(FakeBackend::Ok("bob"));
    scheduler_.RunUntilIdle();
    ASSERT_TRUE(login.ready() && login.get().ok());
    AnswerRingingCalls({});
  }

  // The missed-push recovery request after authentication.
  void AnswerRingingCalls(std::vector<wire::v1::CallInfo> calls) {
    ASSERT_FALSE(backend_.ringing_calls.empty());
    auto done = std::move(backend_.ringing_calls.front());
    backend_.ringing_calls.pop_front();
    std::move(done)(std::move(calls));
    scheduler_.RunUntilIdle();
  }

  // The kinds of the `Event`s (CallChanged, RoomChanged) emitted so far.
  template <typename Event>
  std::vector<typename Event::Kind> KindsOf() const {
    std::vector<typename Event::Kind> kinds;
    for (const auto& e : events_.template Of<Event>()) kinds.push_back(e.kind);
    return kinds;
  }

  ::callsd::testing::SimulatedScheduler scheduler_;
  FakeStateStore store_;
  FakeBackend backend_{&scheduler_};
  FakeCallChannel channel_{&scheduler_};
  NullEnder ender_;
  RecordingEventSink events_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<CallRegistry> calls_;
};

}  // namespace callsd::daemon::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_FAKES_REGISTRY_FIXTURE_H_
