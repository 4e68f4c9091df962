// An in-process callsd.v1.Calls server for libcallsclient tests: canned
// answers, rich errors, a "hang" mode that never answers, and WatchEvents
// streams that end, flow forever, or idle until cancelled.
#ifndef CALLSD_TESTS_UNIT_CLIENT_TEST_CALLS_SERVICE_H_
#define CALLSD_TESTS_UNIT_CLIENT_TEST_CALLS_SERVICE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.grpc.pb.h"

namespace callsd::testing {

// A grpc::Status carrying an RpcStatus with `info` in its details, the way
// the daemon sends errors. `extra` (if set) is packed before the ErrorInfo.
inline grpc::Status RichError(grpc::StatusCode code, const std::string& message,
                              const callsd::v1::ErrorInfo& info,
                              const google::protobuf::Message* extra = nullptr) {
  callsd::v1::RpcStatus rpc_status;
  rpc_status.set_code(code);
  rpc_status.set_message(message);
  if (extra != nullptr) rpc_status.add_details()->PackFrom(*extra);
  rpc_status.add_details()->PackFrom(info);
  return grpc::Status(code, message, rpc_status.SerializeAsString());
}

class TestCallsService final : public callsd::v1::Calls::CallbackService {
 public:
  enum class WatchMode {
    kFinite,   // watch_count events (the first a snapshot), then Finish(watch_end).
    kEndless,  // Events as fast as the client reads, until cancelled.
    kIdle,     // A snapshot, then nothing until cancelled.
  };

  // Configuration (set before the calls it affects).
  void SetError(std::optional<grpc::Status> error) {
    absl::MutexLock lock(&mu_);
    error_ = std::move(error);
  }
  void SetHang(bool hang) {
    absl::MutexLock lock(&mu_);
    hang_ = hang;
  }
  void SetWatch(WatchMode mode, int count = 0, grpc::Status end = grpc::Status::OK) {
    absl::MutexLock lock(&mu_);
    watch_mode_ = mode;
    watch_count_ = count;
    watch_end_ = std::move(end);
  }

  // Observations.
  std::string last_app_id() {
    absl::MutexLock lock(&mu_);
    return last_app_id_;
  }
  callsd::v1::AuthenticateRequest last_authenticate() {
    absl::MutexLock lock(&mu_);
    return last_authenticate_;
  }
  // The last request of the call method `method` ("Dial", ...) as received;
  // a default message when there was none.
  template <typename Request>
  Request LastRequest(const std::string& method) {
    absl::MutexLock lock(&mu_);
    Request request;
    auto it = last_requests_.find(method);
    if (it != last_requests_.end()) request.ParseFromString(it->second);
    return request;
  }
  // Waits until `count` unary calls were cancelled (deadline or client).
  bool WaitForUnaryCancels(int count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return unary_cancels_ >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  // Waits until `count` WatchEvents streams are over on the server side.
  bool WaitForWatchesDone(int count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto done = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return watches_done_ >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  int watch_cancels() {
    absl::MutexLock lock(&mu_);
    return watch_cancels_;
  }

  // callsd.v1.Calls.
  grpc::ServerUnaryReactor* Init(grpc::CallbackServerContext* context,
                                 const callsd::v1::InitRequest* request,
                                 callsd::v1::InitResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      last_app_id_ = request->app_id();
    }
    response->set_changed(true);
    response->set_previous_app_id("old-app");
    response->mutable_state()->set_app_id(request->app_id());
    return Answer(context);
  }
  grpc::ServerUnaryReactor* Authenticate(grpc::CallbackServerContext* context,
                                         const callsd::v1::AuthenticateRequest* request,
                                         callsd::v1::AuthenticateResponse* response) override {
    {
      absl::MutexLock lock(&mu_);
      last_authenticate_ = *request;
    }
    response->mutable_user()->set_user_id(request->user_id());
    response->mutable_state()->set_session_state(callsd::v1::SESSION_STATE_AUTHENTICATED);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* Deauthenticate(grpc::CallbackServerContext* context,
                                           const callsd::v1::DeauthenticateRequest* request,
                                           callsd::v1::DeauthenticateResponse* response) override {
    response->set_server_confirmed(!request->keep_push_tokens());
    response->set_pending_operations(request->keep_push_tokens() ? 0 : 3);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* RefreshSessionToken(
      grpc::CallbackServerContext* context, const callsd::v1::RefreshSessionTokenRequest* request,
      callsd::v1::RefreshSessionTokenResponse* response) override {
    response->mutable_expires_at()->set_seconds(static_cast<int64_t>(request->token().size()));
    return Answer(context);
  }
  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* context,
                                     const callsd::v1::GetStateRequest*,
                                     callsd::v1::State* response) override {
    response->set_app_id("demo-app");
    response->set_session_state(callsd::v1::SESSION_STATE_LOGGED_OUT);
    response->set_event_seq(17);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* RegisterPushToken(
      grpc::CallbackServerContext* context, const callsd::v1::RegisterPushTokenRequest* request,
      callsd::v1::RegisterPushTokenResponse* response) override {
    response->mutable_token()->set_type(request->type());
    response->mutable_token()->set_token(request->token());
    response->mutable_token()->set_server_state(
        request->unique() ? callsd::v1::PUSH_TOKEN_SERVER_STATE_REGISTERED
                          : callsd::v1::PUSH_TOKEN_SERVER_STATE_PENDING);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* UnregisterPushToken(
      grpc::CallbackServerContext* context, const callsd::v1::UnregisterPushTokenRequest* request,
      callsd::v1::UnregisterPushTokenResponse* response) override {
    response->set_server_confirmed(request->token() == "https://push.example/confirmed");
    return Answer(context);
  }
  grpc::ServerUnaryReactor* UnregisterAllPushTokens(
      grpc::CallbackServerContext* context,
      const callsd::v1::UnregisterAllPushTokensRequest* request,
      callsd::v1::UnregisterAllPushTokensResponse* response) override {
    response->set_server_confirmed(request->type() == callsd::v1::PUSH_TOKEN_TYPE_REMOTE);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* ListPushTokens(grpc::CallbackServerContext* context,
                                           const callsd::v1::ListPushTokensRequest*,
                                           callsd::v1::ListPushTokensResponse* response) override {
    response->add_tokens()->set_token("https://push.example/1");
    response->set_pending_unregistrations(4);
    return Answer(context);
  }

  // Calls: answers derived from the request, so that tests can tell that
  // the request arrived whole.
  grpc::ServerUnaryReactor* Dial(grpc::CallbackServerContext* context,
                                 const callsd::v1::DialRequest* request,
                                 callsd::v1::DialResponse* response) override {
    Record("Dial", *request);
    callsd::v1::Call* call = response->mutable_call();
    call->set_call_id("call-to-" + request->callee_id());
    call->set_direction(callsd::v1::CALL_DIRECTION_OUTGOING);
    call->mutable_caller()->set_user_id("me");
    call->mutable_callee()->set_user_id(request->callee_id());
    *call->mutable_peer() = call->callee();
    call->set_video(request->video());
    call->set_state(callsd::v1::CALL_STATE_DIALING);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* Accept(grpc::CallbackServerContext* context,
                                   const callsd::v1::AcceptRequest* request,
                                   callsd::v1::AcceptResponse* response) override {
    Record("Accept", *request);
    response->mutable_call()->set_call_id(request->call_id());
    response->mutable_call()->set_state(callsd::v1::CALL_STATE_ACCEPTING);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* Decline(grpc::CallbackServerContext* context,
                                    const callsd::v1::DeclineRequest* request,
                                    callsd::v1::DeclineResponse* response) override {
    Record("Decline", *request);
    response->mutable_call()->set_call_id(request->call_id());
    response->mutable_call()->set_state(callsd::v1::CALL_STATE_ENDED);
    response->mutable_call()->set_end_result(callsd::v1::END_RESULT_DECLINED);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* End(grpc::CallbackServerContext* context,
                                const callsd::v1::EndRequest* request,
                                callsd::v1::EndResponse* response) override {
    Record("End", *request);
    response->mutable_call()->set_call_id(request->call_id());
    response->mutable_call()->set_state(callsd::v1::CALL_STATE_ENDED);
    response->mutable_call()->set_end_result(callsd::v1::END_RESULT_COMPLETED);
    response->mutable_call()->set_duration_ms(42000);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* SetMuted(grpc::CallbackServerContext* context,
                                     const callsd::v1::SetMutedRequest* request,
                                     callsd::v1::SetMutedResponse* response) override {
    Record("SetMuted", *request);
    response->mutable_call()->set_call_id(request->call_id());
    response->mutable_call()->set_state(callsd::v1::CALL_STATE_CONNECTED);
    response->mutable_call()->set_muted(request->muted());
    return Answer(context);
  }
  grpc::ServerUnaryReactor* ListCalls(grpc::CallbackServerContext* context,
                                      const callsd::v1::ListCallsRequest* request,
                                      callsd::v1::ListCallsResponse* response) override {
    Record("ListCalls", *request);
    response->add_calls()->set_call_id("ongoing");
    response->mutable_calls(0)->set_state(callsd::v1::CALL_STATE_CONNECTED);
    response->add_calls()->set_call_id("ended");
    response->mutable_calls(1)->set_state(callsd::v1::CALL_STATE_ENDED);
    return Answer(context);
  }
  // `limit` calls (2 for 0), the cursor "<next>+1", from the cache when the
  // cursor is "offline".
  grpc::ServerUnaryReactor* GetCallHistory(grpc::CallbackServerContext* context,
                                           const callsd::v1::GetCallHistoryRequest* request,
                                           callsd::v1::GetCallHistoryResponse* response) override {
    Record("GetCallHistory", *request);
    const int count = request->limit() == 0 ? 2 : request->limit();
    for (int i = 0; i < count; ++i) response->add_calls()->set_call_id("log-" + std::to_string(i));
    response->set_next(request->next() + "+1");
    response->set_from_cache(request->next() == "offline");
    return Answer(context);
  }
  // Rings a call named after the payload's size.
  grpc::ServerUnaryReactor* DeliverPush(grpc::CallbackServerContext* context,
                                        const callsd::v1::DeliverPushRequest* request,
                                        callsd::v1::DeliverPushResponse* response) override {
    Record("DeliverPush", *request);
    response->set_outcome(callsd::v1::DeliverPushResponse::OUTCOME_RANG);
    response->mutable_call()->set_call_id("pushed-" + std::to_string(request->payload().size()));
    response->mutable_call()->mutable_caller()->set_user_id("alice");
    return Answer(context);
  }

  // Rooms: answers derived from the request as for the calls.
  grpc::ServerUnaryReactor* CreateRoom(grpc::CallbackServerContext* context,
                                       const callsd::v1::CreateRoomRequest* request,
                                       callsd::v1::CreateRoomResponse* response) override {
    Record("CreateRoom", *request);
    const bool large = request->type() == callsd::v1::ROOM_TYPE_LARGE;
    callsd::v1::Room* room = response->mutable_room();
    room->set_room_id(large ? "room-large" : "room-small");
    room->set_type(large ? callsd::v1::ROOM_TYPE_LARGE : callsd::v1::ROOM_TYPE_SMALL);
    room->set_max_participants(large ? 20 : 6);
    room->set_owner_id("me");
    return Answer(context);
  }
  grpc::ServerUnaryReactor* EnterRoom(grpc::CallbackServerContext* context,
                                      const callsd::v1::EnterRoomRequest* request,
                                      callsd::v1::EnterRoomResponse* response) override {
    Record("EnterRoom", *request);
    response->mutable_room()->set_room_id(request->room_id());
    response->mutable_room()->set_state(callsd::v1::ROOM_STATE_ENTERED);
    response->mutable_room()->set_muted(request->muted());
    return Answer(context);
  }
  grpc::ServerUnaryReactor* ExitRoom(grpc::CallbackServerContext* context,
                                     const callsd::v1::ExitRoomRequest* request,
                                     callsd::v1::ExitRoomResponse* response) override {
    Record("ExitRoom", *request);
    response->mutable_room()->set_room_id(request->room_id());
    response->mutable_room()->set_state(callsd::v1::ROOM_STATE_EXITED);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* SetRoomMuted(grpc::CallbackServerContext* context,
                                         const callsd::v1::SetRoomMutedRequest* request,
                                         callsd::v1::SetRoomMutedResponse* response) override {
    Record("SetRoomMuted", *request);
    response->mutable_room()->set_room_id(request->room_id());
    response->mutable_room()->set_muted(request->muted());
    return Answer(context);
  }
  grpc::ServerUnaryReactor* DeleteRoom(grpc::CallbackServerContext* context,
                                       const callsd::v1::DeleteRoomRequest* request,
                                       callsd::v1::DeleteRoomResponse*) override {
    Record("DeleteRoom", *request);
    return Answer(context);
  }
  // Two participants, the second muted.
  grpc::ServerUnaryReactor* GetRoom(grpc::CallbackServerContext* context,
                                    const callsd::v1::GetRoomRequest* request,
                                    callsd::v1::GetRoomResponse* response) override {
    Record("GetRoom", *request);
    callsd::v1::Room* room = response->mutable_room();
    room->set_room_id(request->room_id());
    room->add_participants()->mutable_user()->set_user_id("alice");
    room->add_participants()->mutable_user()->set_user_id("bob");
    room->mutable_participants(1)->set_muted(true);
    return Answer(context);
  }
  grpc::ServerUnaryReactor* ListRooms(grpc::CallbackServerContext* context,
                                      const callsd::v1::ListRoomsRequest* request,
                                      callsd::v1::ListRoomsResponse* response) override {
    Record("ListRooms", *request);
    response->add_rooms()->set_room_id("r1");
    response->add_rooms()->set_room_id("r2");
    return Answer(context);
  }

  grpc::ServerWriteReactor<callsd::v1::Event>* WatchEvents(
      grpc::CallbackServerContext*, const callsd::v1::WatchEventsRequest*) override {
    absl::MutexLock lock(&mu_);
    return new Writer(this, watch_mode_, watch_count_, watch_end_);
  }

 private:
  // Never answers; finishes when the call is cancelled (deadline).
  class HangingReactor final : public grpc::ServerUnaryReactor {
   public:
    explicit HangingReactor(TestCallsService* service) : service_(service) {}
    void OnCancel() override {
      {
        absl::MutexLock lock(&service_->mu_);
        ++service_->unary_cancels_;
      }
      Finish(grpc::Status::CANCELLED);
    }
    void OnDone() override { delete this; }

   private:
    TestCallsService* const service_;
  };

  class Writer final : public grpc::ServerWriteReactor<callsd::v1::Event> {
   public:
    Writer(TestCallsService* service, WatchMode mode, int count, grpc::Status end)
        : service_(service), mode_(mode), count_(count), end_(std::move(end)) {
      absl::MutexLock lock(&mu_);
      WriteNextLocked();
    }

    void OnWriteDone(bool ok) override {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        FinishLocked(grpc::Status::CANCELLED);
        return;
      }
      WriteNextLocked();
    }

    void OnCancel() override {
      {
        absl::MutexLock lock(&service_->mu_);
        ++service_->watch_cancels_;
      }
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      // With a write in flight, OnWriteDone finishes (WriteNextLocked).
      if (!writing_) FinishLocked(grpc::Status::CANCELLED);
    }

    void OnDone() override {
      {
        absl::MutexLock lock(&service_->mu_);
        ++service_->watches_done_;
      }
      delete this;
    }

   private:
    void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (finished_) return;
      if (cancelled_) {
        FinishLocked(grpc::Status::CANCELLED);
        return;
      }
      if (mode_ == WatchMode::kFinite && seq_ >= static_cast<uint64_t>(count_)) {
        FinishLocked(end_);
        return;
      }
      if (mode_ == WatchMode::kIdle && seq_ >= 1) return;  // Wait for OnCancel.
      event_.Clear();
      event_.set_seq(++seq_);
      if (seq_ == 1) {
        event_.mutable_snapshot()->set_app_id("demo-app");
        event_.mutable_snapshot()->set_event_seq(0);
      } else {
        event_.mutable_session_state_changed()->set_state(
            callsd::v1::SESSION_STATE_AUTHENTICATING);
      }
      writing_ = true;
      StartWrite(&event_);
    }

    void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (finished_) return;
      finished_ = true;
      Finish(status);
    }

    TestCallsService* const service_;
    const WatchMode mode_;
    const int count_;
    const grpc::Status end_;
    absl::Mutex mu_;
    uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
    bool writing_ ABSL_GUARDED_BY(mu_) = false;
    bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
    bool finished_ ABSL_GUARDED_BY(mu_) = false;
    callsd::v1::Event event_ ABSL_GUARDED_BY(mu_);
  };

  void Record(const std::string& method, const google::protobuf::Message& request) {
    absl::MutexLock lock(&mu_);
    last_requests_[method] = request.SerializeAsString();
  }

  grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context) {
    std::optional<grpc::Status> error;
    {
      absl::MutexLock lock(&mu_);
      if (hang_) return new HangingReactor(this);
      error = error_;
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(error.value_or(grpc::Status::OK));
    return reactor;
  }

  absl::Mutex mu_;
  std::optional<grpc::Status> error_ ABSL_GUARDED_BY(mu_);
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  WatchMode watch_mode_ ABSL_GUARDED_BY(mu_) = WatchMode::kIdle;
  int watch_count_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status watch_end_ ABSL_GUARDED_BY(mu_);
  std::string last_app_id_ ABSL_GUARDED_BY(mu_);
  callsd::v1::AuthenticateRequest last_authenticate_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> last_requests_ ABSL_GUARDED_BY(mu_);
  int unary_cancels_ ABSL_GUARDED_BY(mu_) = 0;
  int watch_cancels_ ABSL_GUARDED_BY(mu_) = 0;
  int watches_done_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace callsd::testing

#endif  // CALLSD_TESTS_UNIT_CLIENT_TEST_CALLS_SERVICE_H_
