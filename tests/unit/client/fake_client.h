// A fake callsd::client::Client for callsctl tests: canned answers, recorded
// requests, and a Watch stream played by a thread. No gRPC, no socket.
#ifndef CALLSD_TESTS_UNIT_CLIENT_FAKE_CLIENT_H_
#define CALLSD_TESTS_UNIT_CLIENT_FAKE_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "callsd/client.h"

namespace callsd::testing {

// What the fake "daemon" answers and what it was asked. Owned by the test;
// outlives every FakeClient made from it. Single-threaded use, except for the
// watch fields that the stream thread reads (set them before running).
struct FakeDaemon {
  // Answers.
  absl::StatusOr<callsd::v1::InitResponse> init = callsd::v1::InitResponse();
  absl::StatusOr<callsd::v1::AuthenticateResponse> authenticate =
      callsd::v1::AuthenticateResponse();
  absl::StatusOr<callsd::v1::DeauthenticateResponse> deauthenticate =
      callsd::v1::DeauthenticateResponse();
  absl::StatusOr<callsd::v1::RefreshSessionTokenResponse> refresh =
      callsd::v1::RefreshSessionTokenResponse();
  absl::StatusOr<callsd::v1::State> state = callsd::v1::State();
  absl::StatusOr<callsd::v1::RegisterPushTokenResponse> register_push =
      callsd::v1::RegisterPushTokenResponse();
  absl::StatusOr<callsd::v1::UnregisterPushTokenResponse> unregister_push =
      callsd::v1::UnregisterPushTokenResponse();
  absl::StatusOr<callsd::v1::UnregisterAllPushTokensResponse> unregister_all =
      callsd::v1::UnregisterAllPushTokensResponse();
  absl::StatusOr<callsd::v1::ListPushTokensResponse> list_push =
      callsd::v1::ListPushTokensResponse();
  absl::StatusOr<callsd::v1::DialResponse> dial = callsd::v1::DialResponse();
  absl::StatusOr<callsd::v1::AcceptResponse> accept = callsd::v1::AcceptResponse();
  absl::StatusOr<callsd::v1::DeclineResponse> decline = callsd::v1::DeclineResponse();
  absl::StatusOr<callsd::v1::EndResponse> end = callsd::v1::EndResponse();
  absl::StatusOr<callsd::v1::SetMutedResponse> set_muted = callsd::v1::SetMutedResponse();
  absl::StatusOr<callsd::v1::ListCallsResponse> list_calls = callsd::v1::ListCallsResponse();
  absl::StatusOr<callsd::v1::GetCallHistoryResponse> history =
      callsd::v1::GetCallHistoryResponse();
  absl::StatusOr<callsd::v1::DeliverPushResponse> deliver_push =
      callsd::v1::DeliverPushResponse();
  absl::StatusOr<callsd::v1::CreateRoomResponse> create_room = callsd::v1::CreateRoomResponse();
  absl::StatusOr<callsd::v1::EnterRoomResponse> enter_room = callsd::v1::EnterRoomResponse();
  absl::StatusOr<callsd::v1::ExitRoomResponse> exit_room = callsd::v1::ExitRoomResponse();
  absl::StatusOr<callsd::v1::SetRoomMutedResponse> set_room_muted =
      callsd::v1::SetRoomMutedResponse();
  absl::StatusOr<callsd::v1::DeleteRoomResponse> delete_room = callsd::v1::DeleteRoomResponse();
  absl::StatusOr<callsd::v1::GetRoomResponse> get_room = callsd::v1::GetRoomResponse();
  absl::StatusOr<callsd::v1::ListRoomsResponse> list_rooms = callsd::v1::ListRoomsResponse();
  // Connect fails with this when set.
  absl::Status connect_error;

  // Watch: these events, then the end status (nullopt: the stream stays open
  // until cancelled). `after_events` runs on the stream thread after the
  // last event (e.g. to simulate Ctrl-C).
  std::vector<callsd::v1::Event> events;
  std::optional<absl::Status> watch_end;
  std::function<void()> after_events;

  // Recorded.
  std::optional<callsd::client::ClientOptions> connect_options;
  int connects = 0;
  std::vector<std::string> calls;  // RPC names in order.
  callsd::v1::InitRequest init_request;
  callsd::v1::AuthenticateRequest authenticate_request;
  callsd::v1::DeauthenticateRequest deauthenticate_request;
  callsd::v1::RefreshSessionTokenRequest refresh_request;
  callsd::v1::RegisterPushTokenRequest register_request;
  callsd::v1::UnregisterPushTokenRequest unregister_request;
  callsd::v1::UnregisterAllPushTokensRequest unregister_all_request;
  callsd::v1::DialRequest dial_request;
  callsd::v1::AcceptRequest accept_request;
  callsd::v1::DeclineRequest decline_request;
  callsd::v1::EndRequest end_request;
  callsd::v1::SetMutedRequest set_muted_request;
  callsd::v1::GetCallHistoryRequest history_request;
  callsd::v1::DeliverPushRequest deliver_push_request;
  callsd::v1::CreateRoomRequest create_room_request;
  callsd::v1::EnterRoomRequest enter_room_request;
  callsd::v1::ExitRoomRequest exit_room_request;
  callsd::v1::SetRoomMutedRequest set_room_muted_request;
  callsd::v1::DeleteRoomRequest delete_room_request;
  callsd::v1::GetRoomRequest get_room_request;
};

// A Watch stream played by a thread: events, then the end (or waiting for
// Cancel). Honours the Subscription contract.
class FakeSubscription final : public callsd::client::Subscription {
 public:
  FakeSubscription(const FakeDaemon& daemon, callsd::client::EventCallback on_event,
                   callsd::client::EndCallback on_end)
      : on_event_(std::move(on_event)), on_end_(std::move(on_end)) {
    thread_ = std::thread([this, &daemon] { Play(daemon); });
  }
  ~FakeSubscription() override { Cancel(); }

  void Cancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  void Play(const FakeDaemon& daemon) {
    for (const callsd::v1::Event& event : daemon.events) {
      if (Cancelled()) return;
      on_event_(event);
    }
    if (daemon.after_events) daemon.after_events();
    if (daemon.watch_end.has_value()) {
      if (!Cancelled()) on_end_(*daemon.watch_end);
      return;
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&cancelled_));
  }

  bool Cancelled() {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  const callsd::client::EventCallback on_event_;
  const callsd::client::EndCallback on_end_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class FakeClient final : public callsd::client::Client {
 public:
  explicit FakeClient(FakeDaemon* daemon) : daemon_(daemon) {}

  const std::string& socket_path() const override { return path_; }

  absl::StatusOr<callsd::v1::InitResponse> Init(const callsd::v1::InitRequest& r) override {
    daemon_->calls.push_back("Init");
    daemon_->init_request = r;
    return daemon_->init;
  }
  absl::StatusOr<callsd::v1::AuthenticateResponse> Authenticate(
      const callsd::v1::AuthenticateRequest& r) override {
    daemon_->calls.push_back("Authenticate");
    daemon_->authenticate_request = r;
    return daemon_->authenticate;
  }
  absl::StatusOr<callsd::v1::DeauthenticateResponse> Deauthenticate(
      const callsd::v1::DeauthenticateRequest& r) override {
    daemon_->calls.push_back("Deauthenticate");
    daemon_->deauthenticate_request = r;
    return daemon_->deauthenticate;
  }
  absl::StatusOr<callsd::v1::RefreshSessionTokenResponse> RefreshSessionToken(
      const callsd::v1::RefreshSessionTokenRequest& r) override {
    daemon_->calls.push_back("RefreshSessionToken");
    daemon_->refresh_request = r;
    return daemon_->refresh;
  }
  absl::StatusOr<callsd::v1::State> GetState(const callsd::v1::GetStateRequest&) override {
    daemon_->calls.push_back("GetState");
    return daemon_->state;
  }
  absl::StatusOr<callsd::v1::RegisterPushTokenResponse> RegisterPushToken(
      const callsd::v1::RegisterPushTokenRequest& r) override {
    daemon_->calls.push_back("RegisterPushToken");
    daemon_->register_request = r;
    return daemon_->register_push;
  }
  absl::StatusOr<callsd::v1::UnregisterPushTokenResponse> UnregisterPushToken(
      const callsd::v1::UnregisterPushTokenRequest& r) override {
    daemon_->calls.push_back("UnregisterPushToken");
    daemon_->unregister_request = r;
    return daemon_->unregister_push;
  }
  absl::StatusOr<callsd::v1::UnregisterAllPushTokensResponse> UnregisterAllPushTokens(
      const callsd::v1::UnregisterAllPushTokensRequest& r) override {
    daemon_->calls.push_back("UnregisterAllPushTokens");
    daemon_->unregister_all_request = r;
    return daemon_->unregister_all;
  }
  absl::StatusOr<callsd::v1::ListPushTokensResponse> ListPushTokens(
      const callsd::v1::ListPushTokensRequest&) override {
    daemon_->calls.push_back("ListPushTokens");
    return daemon_->list_push;
  }
  absl::StatusOr<callsd::v1::DialResponse> Dial(const callsd::v1::DialRequest& r) override {
    daemon_->calls.push_back("Dial");
    daemon_->dial_request = r;
    return daemon_->dial;
  }
  absl::StatusOr<callsd::v1::AcceptResponse> Accept(const callsd::v1::AcceptRequest& r) override {
    daemon_->calls.push_back("Accept");
    daemon_->accept_request = r;
    return daemon_->accept;
  }
  absl::StatusOr<callsd::v1::DeclineResponse> Decline(
      const callsd::v1::DeclineRequest& r) override {
    daemon_->calls.push_back("Decline");
    daemon_->decline_request = r;
    return daemon_->decline;
  }
  absl::StatusOr<callsd::v1::EndResponse> End(const callsd::v1::EndRequest& r) override {
    daemon_->calls.push_back("End");
    daemon_->end_request = r;
    return daemon_->end;
  }
  absl::StatusOr<callsd::v1::SetMutedResponse> SetMuted(
      const callsd::v1::SetMutedRequest& r) override {
    daemon_->calls.push_back("SetMuted");
    daemon_->set_muted_request = r;
    return daemon_->set_muted;
  }
  absl::StatusOr<callsd::v1::ListCallsResponse> ListCalls(
      const callsd::v1::ListCallsRequest&) override {
    daemon_->calls.push_back("ListCalls");
    return daemon_->list_calls;
  }
  absl::StatusOr<callsd::v1::GetCallHistoryResponse> GetCallHistory(
      const callsd::v1::GetCallHistoryRequest& r) override {
    daemon_->calls.push_back("GetCallHistory");
    daemon_->history_request = r;
    return daemon_->history;
  }
  absl::StatusOr<callsd::v1::DeliverPushResponse> DeliverPush(
      const callsd::v1::DeliverPushRequest& r) override {
    daemon_->calls.push_back("DeliverPush");
    daemon_->deliver_push_request = r;
    return daemon_->deliver_push;
  }
  absl::StatusOr<callsd::v1::CreateRoomResponse> CreateRoom(
      const callsd::v1::CreateRoomRequest& r) override {
    daemon_->calls.push_back("CreateRoom");
    daemon_->create_room_request = r;
    return daemon_->create_room;
  }
  absl::StatusOr<callsd::v1::EnterRoomResponse> EnterRoom(
      const callsd::v1::EnterRoomRequest& r) override {
    daemon_->calls.push_back("EnterRoom");
    daemon_->enter_room_request = r;
    return daemon_->enter_room;
  }
  absl::StatusOr<callsd::v1::ExitRoomResponse> ExitRoom(
      const callsd::v1::ExitRoomRequest& r) override {
    daemon_->calls.push_back("ExitRoom");
    daemon_->exit_room_request = r;
    return daemon_->exit_room;
  }
  absl::StatusOr<callsd::v1::SetRoomMutedResponse> SetRoomMuted(
      const callsd::v1::SetRoomMutedRequest& r) override {
    daemon_->calls.push_back("SetRoomMuted");
    daemon_->set_room_muted_request = r;
    return daemon_->set_room_muted;
  }
  absl::StatusOr<callsd::v1::DeleteRoomResponse> DeleteRoom(
      const callsd::v1::DeleteRoomRequest& r) override {
    daemon_->calls.push_back("DeleteRoom");
    daemon_->delete_room_request = r;
    return daemon_->delete_room;
  }
  absl::StatusOr<callsd::v1::GetRoomResponse> GetRoom(
      const callsd::v1::GetRoomRequest& r) override {
    daemon_->calls.push_back("GetRoom");
    daemon_->get_room_request = r;
    return daemon_->get_room;
  }
  absl::StatusOr<callsd::v1::ListRoomsResponse> ListRooms(
      const callsd::v1::ListRoomsRequest&) override {
    daemon_->calls.push_back("ListRooms");
    return daemon_->list_rooms;
  }
  std::unique_ptr<callsd::client::Subscription> Watch(callsd::client::EventCallback on_event,
                                                      callsd::client::EndCallback on_end) override {
    daemon_->calls.push_back("Watch");
    return std::make_unique<FakeSubscription>(*daemon_, std::move(on_event), std::move(on_end));
  }

 private:
  FakeDaemon* const daemon_;
  const std::string path_ = "/fake/callsd.sock";
};

}  // namespace callsd::testing

#endif  // CALLSD_TESTS_UNIT_CLIENT_FAKE_CLIENT_H_
