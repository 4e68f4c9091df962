// The gRPC implementation of callsd::client::Client (the only file of the
// library that includes grpcpp).
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "callsd/client.h"
#include "callsd/v1/callsd.grpc.pb.h"

namespace callsd::client {
namespace {

namespace v1 = ::callsd::v1;

// grpc::Status -> absl::Status (same code and message) with the daemon's
// ErrorInfo, from the RpcStatus in the status details, as a payload.
absl::Status FromGrpc(const grpc::Status& grpc_status) {
  if (grpc_status.ok()) return absl::OkStatus();
  std::optional<v1::ErrorInfo> info;
  if (!grpc_status.error_details().empty()) {
    v1::RpcStatus rpc_status;
    if (rpc_status.ParseFromString(grpc_status.error_details())) {
      for (const google::protobuf::Any& any : rpc_status.details()) {
        v1::ErrorInfo candidate;
        if (any.Is<v1::ErrorInfo>() && any.UnpackTo(&candidate)) {
          info = std::move(candidate);
          break;
        }
      }
    }
  }
  std::string message = grpc_status.error_message();
  if (message.empty() && info.has_value()) message = info->message();
  absl::Status status(static_cast<absl::StatusCode>(grpc_status.error_code()), message);
  if (info.has_value()) status = WithErrorInfo(std::move(status), *info);
  return status;
}

// What a Subscription, its reactor and the Client share.
//
// Lifetime rule (gRPC 1.51): the last reference to a grpc::Channel must never
// be dropped on a gRPC callback thread (the channel's destructor releases the
// shared callback completion queue and may join the very thread it runs on).
// A ClientContext holds a channel reference, so the reactor destroys the
// context *before* it reports `done`, and the Client (which owns the channel)
// waits for `done` of every stream before it lets the channel go.
struct WatchState {
  WatchState(EventCallback on_event_in, EndCallback on_end_in)
      : on_event(std::move(on_event_in)), on_end(std::move(on_end_in)) {}

  // Constant after construction.
  const EventCallback on_event;
  const EndCallback on_end;

  absl::Mutex mu;
  // The RPC's context; destroyed by the reactor in OnDone (see above).
  std::unique_ptr<grpc::ClientContext> context ABSL_GUARDED_BY(mu) =
      std::make_unique<grpc::ClientContext>();
  // Cancel() calls in progress that use `context` outside the lock.
  int context_pins ABSL_GUARDED_BY(mu) = 0;
  // Set by Cancel(): no callback starts after this.
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  // A user callback is running, on `callback_thread`.
  bool in_callback ABSL_GUARDED_BY(mu) = false;
  std::thread::id callback_thread ABSL_GUARDED_BY(mu);
  // OnDone has finished: the reactor and the context are gone.
  bool done ABSL_GUARDED_BY(mu) = false;
};

// Cancels the stream of `state`; then, unless called from one of its own
// callbacks, waits until it is done.
void CancelWatch(WatchState& state) {
  grpc::ClientContext* pinned_context = nullptr;
  bool from_own_callback = false;
  {
    absl::MutexLock lock(&state.mu);
    if (!state.cancelled && state.context != nullptr) {
      ++state.context_pins;  // Keeps the context until we are done with it.
      pinned_context = state.context.get();
    }
    state.cancelled = true;
    from_own_callback =
        state.in_callback && state.callback_thread == std::this_thread::get_id();
  }
  if (pinned_context != nullptr) {
    // Outside the lock: cancelling may complete operations.
    pinned_context->TryCancel();
    absl::MutexLock lock(&state.mu);
    --state.context_pins;
  }
  // Waiting for ourselves would deadlock; the running callback is the last.
  if (from_own_callback) return;
  absl::MutexLock lock(&state.mu);
  state.mu.Await(absl::Condition(&state.done));
}

class WatchReactor final : public grpc::ClientReadReactor<v1::Event> {
 public:
  explicit WatchReactor(std::shared_ptr<WatchState> state) : state_(std::move(state)) {}

  // Starts the stream. The reactor owns itself from here on.
  void Start(v1::Calls::Stub* stub) {
    grpc::ClientContext* context;
    {
      absl::MutexLock lock(&state_->mu);
      context = state_->context.get();  // Lives until OnDone.
    }
    stub->async()->WatchEvents(context, &request_, this);
    StartRead(&event_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // No more events: OnDone follows.
    if (!EnterCallback()) return;
    state_->on_event(event_);
    if (!LeaveCallback()) return;  // Cancelled meanwhile: read no more.
    StartRead(&event_);
  }

  void OnDone(const grpc::Status& grpc_status) override {
    if (EnterCallback()) {
      state_->on_end(FromGrpc(grpc_status));
      LeaveCallback();
    }
    std::shared_ptr<WatchState> state = std::move(state_);
    delete this;
    std::unique_ptr<grpc::ClientContext> context;
    {
      absl::MutexLock lock(&state->mu);
      state->mu.Await(absl::Condition(
          +[](int* pins) { return *pins == 0; }, &state->context_pins));
      context = std::move(state->context);
    }
    // Drops the context's channel reference while the Client still holds
    // its own (it waits for `done`).
    context.reset();
    absl::MutexLock lock(&state->mu);
    state->done = true;
  }

 private:
  // Returns false when cancelled (then no callback may run).
  bool EnterCallback() {
    absl::MutexLock lock(&state_->mu);
    if (state_->cancelled) return false;
    state_->in_callback = true;
    state_->callback_thread = std::this_thread::get_id();
    return true;
  }

  // Returns false when cancelled while the callback ran.
  bool LeaveCallback() {
    absl::MutexLock lock(&state_->mu);
    state_->in_callback = false;
    return !state_->cancelled;
  }

  std::shared_ptr<WatchState> state_;
  v1::WatchEventsRequest request_;
  v1::Event event_;
};

class GrpcSubscription final : public Subscription {
 public:
  explicit GrpcSubscription(std::shared_ptr<WatchState> state) : state_(std::move(state)) {}
  ~GrpcSubscription() override { Cancel(); }

  void Cancel() override { CancelWatch(*state_); }

 private:
  const std::shared_ptr<WatchState> state_;
};

class GrpcClient final : public Client {
 public:
  GrpcClient(std::string socket_path, absl::Duration deadline,
             std::shared_ptr<grpc::Channel> channel)
      : socket_path_(std::move(socket_path)),
        deadline_(deadline),
        channel_(std::move(channel)),
        stub_(v1::Calls::NewStub(channel_)) {}

  // Cancels the streams still running and waits for them (see WatchState),
  // then closes the channel.
  ~GrpcClient() override {
    std::vector<std::shared_ptr<WatchState>> running;
    {
      absl::MutexLock lock(&mu_);
      for (const std::weak_ptr<WatchState>& weak : watches_) {
        if (std::shared_ptr<WatchState> state = weak.lock()) running.push_back(std::move(state));
      }
      watches_.clear();
    }
    for (const std::shared_ptr<WatchState>& state : running) CancelWatch(*state);
  }

  const std::string& socket_path() const override { return socket_path_; }

  absl::StatusOr<v1::InitResponse> Init(const v1::InitRequest& request) override {
    return Unary("Init", &v1::Calls::Stub::Init, request);
  }

  absl::StatusOr<v1::AuthenticateResponse> Authenticate(
      const v1::AuthenticateRequest& request) override {
    return Unary("Authenticate", &v1::Calls::Stub::Authenticate, request);
  }

  absl::StatusOr<v1::DeauthenticateResponse> Deauthenticate(
      const v1::DeauthenticateRequest& request) override {
    return Unary("Deauthenticate", &v1::Calls::Stub::Deauthenticate, request);
  }

  absl::StatusOr<v1::RefreshSessionTokenResponse> RefreshSessionToken(
      const v1::RefreshSessionTokenRequest& request) override {
    return Unary("RefreshSessionToken", &v1::Calls::Stub::RefreshSessionToken, request);
  }

  absl::StatusOr<v1::State> GetState(const v1::GetStateRequest& request) override {
    return Unary("GetState", &v1::Calls::Stub::GetState, request);
  }

  absl::StatusOr<v1::RegisterPushTokenResponse> RegisterPushToken(
      const v1::RegisterPushTokenRequest& request) override {
    return Unary("RegisterPushToken", &v1::Calls::Stub::RegisterPushToken, request);
  }

  absl::StatusOr<v1::UnregisterPushTokenResponse> UnregisterPushToken(
      const v1::UnregisterPushTokenRequest& request) override {
    return Unary("UnregisterPushToken", &v1::Calls::Stub::UnregisterPushToken, request);
  }

  absl::StatusOr<v1::UnregisterAllPushTokensResponse> UnregisterAllPushTokens(
      const v1::UnregisterAllPushTokensRequest& request) override {
    return Unary("UnregisterAllPushTokens", &v1::Calls::Stub::UnregisterAllPushTokens, request);
  }

  absl::StatusOr<v1::ListPushTokensResponse> ListPushTokens(
      const v1::ListPushTokensRequest& request) override {
    return Unary("ListPushTokens", &v1::Calls::Stub::ListPushTokens, request);
  }

  absl::StatusOr<v1::DialResponse> Dial(const v1::DialRequest& request) override {
    return Unary("Dial", &v1::Calls::Stub::Dial, request);
  }

  absl::StatusOr<v1::AcceptResponse> Accept(const v1::AcceptRequest& request) override {
    return Unary("Accept", &v1::Calls::Stub::Accept, request);
  }

  absl::StatusOr<v1::DeclineResponse> Decline(const v1::DeclineRequest& request) override {
    return Unary("Decline", &v1::Calls::Stub::Decline, request);
  }

  absl::StatusOr<v1::EndResponse> End(const v1::EndRequest& request) override {
    return Unary("End", &v1::Calls::Stub::End, request);
  }

  absl::StatusOr<v1::SetMutedResponse> SetMuted(const v1::SetMutedRequest& request) override {
    return Unary("SetMuted", &v1::Calls::Stub::SetMuted, request);
  }

  absl::StatusOr<v1::ListCallsResponse> ListCalls(const v1::ListCallsRequest& request) override {
    return Unary("ListCalls", &v1::Calls::Stub::ListCalls, request);
  }

  absl::StatusOr<v1::GetCallHistoryResponse> GetCallHistory(
      const v1::GetCallHistoryRequest& request) override {
    return Unary("GetCallHistory", &v1::Calls::Stub::GetCallHistory, request);
  }

  absl::StatusOr<v1::DeliverPushResponse> DeliverPush(
      const v1::DeliverPushRequest& request) override {
    return Unary("DeliverPush", &v1::Calls::Stub::DeliverPush, request);
  }

  absl::StatusOr<v1::CreateRoomResponse> CreateRoom(const v1::CreateRoomRequest& request) override {
    return Unary("CreateRoom", &v1::Calls::Stub::CreateRoom, request);
  }

  absl::StatusOr<v1::EnterRoomResponse> EnterRoom(const v1::EnterRoomRequest& request) override {
    return Unary("EnterRoom", &v1::Calls::Stub::EnterRoom, request);
  }

  absl::StatusOr<v1::ExitRoomResponse> ExitRoom(const v1::ExitRoomRequest& request) override {
    return Unary("ExitRoom", &v1::Calls::Stub::ExitRoom, request);
  }

  absl::StatusOr<v1::SetRoomMutedResponse> SetRoomMuted(
      const v1::SetRoomMutedRequest& request) override {
    return Unary("SetRoomMuted", &v1::Calls::Stub::SetRoomMuted, request);
  }

  absl::StatusOr<v1::DeleteRoomResponse> DeleteRoom(const v1::DeleteRoomRequest& request) override {
    return Unary("DeleteRoom", &v1::Calls::Stub::DeleteRoom, request);
  }

  absl::StatusOr<v1::GetRoomResponse> GetRoom(const v1::GetRoomRequest& request) override {
    return Unary("GetRoom", &v1::Calls::Stub::GetRoom, request);
  }

  absl::StatusOr<v1::ListRoomsResponse> ListRooms(const v1::ListRoomsRequest& request) override {
    return Unary("ListRooms", &v1::Calls::Stub::ListRooms, request);
  }

  std::unique_ptr<Subscription> Watch(EventCallback on_event, EndCallback on_end) override {
    auto state = std::make_shared<WatchState>(std::move(on_event), std::move(on_end));
    {
      absl::MutexLock lock(&mu_);
      // Forget the streams that are over.
      watches_.erase(std::remove_if(watches_.begin(), watches_.end(),
                                    [](const std::weak_ptr<WatchState>& weak) {
                                      std::shared_ptr<WatchState> s = weak.lock();
                                      if (s == nullptr) return true;
                                      absl::MutexLock state_lock(&s->mu);
                                      return s->done;
                                    }),
                     watches_.end());
      watches_.push_back(state);
    }
    auto subscription = std::make_unique<GrpcSubscription>(state);
    (new WatchReactor(std::move(state)))->Start(stub_.get());
    return subscription;
  }

 private:
  bool HasDeadline() const {
    return deadline_ > absl::ZeroDuration() && deadline_ != absl::InfiniteDuration();
  }

  // Runs the unary RPC `method` (named in messages) with the deadline.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(const char* method,
                                 grpc::Status (v1::Calls::Stub::*rpc)(grpc::ClientContext*,
                                                                      const Request&, Response*),
                                 const Request& request) {
    grpc::ClientContext context;
    if (HasDeadline()) {
      context.set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoMilliseconds(deadline_));
    }
    Response response;
    grpc::Status grpc_status = (stub_.get()->*rpc)(&context, request, &response);
    if (grpc_status.ok()) return response;
    return Explain(method, FromGrpc(grpc_status));
  }

  // Makes the errors that the daemon did not write clearer.
  absl::Status Explain(absl::string_view method, absl::Status status) const {
    if (GetErrorInfo(status).has_value()) return status;  // The daemon's own words.
    switch (status.code()) {
      case absl::StatusCode::kUnimplemented: {
        // An older daemon that does not know this method yet.
        v1::ErrorInfo info;
        info.set_hint("update callsd to the version of this client (or use an older client)");
        std::string message = absl::StrCat("callsd on ", socket_path_, " does not implement ",
                                           method, " (an older daemon?)");
        if (!status.message().empty()) absl::StrAppend(&message, ": ", status.message());
        return WithErrorInfo(absl::UnimplementedError(message), info);
      }
      case absl::StatusCode::kDeadlineExceeded:
        return absl::DeadlineExceededError(
            absl::StrCat("no answer from callsd on ", socket_path_, " within ",
                         absl::FormatDuration(deadline_), " (", status.message(), ")"));
      case absl::StatusCode::kUnavailable: {
        // Gone or stale since Connect()? Say so, with the hint.
        absl::Status socket_status = CheckDaemonSocket(socket_path_);
        if (!socket_status.ok()) return socket_status;
        return absl::UnavailableError(
            absl::StrCat("callsd on ", socket_path_, " is unavailable: ", status.message()));
      }
      default:
        return status;
    }
  }

  // Constant after construction.
  const std::string socket_path_;
  const absl::Duration deadline_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Calls::Stub> stub_;  // Thread-safe.

  absl::Mutex mu_;
  // The streams started by Watch(), to cancel and wait for at destruction.
  std::vector<std::weak_ptr<WatchState>> watches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  std::string path = options.socket_path.empty() ? DefaultSocketPath() : options.socket_path;
  absl::Status socket_status = CheckDaemonSocket(path);
  if (!socket_status.ok()) return socket_status;

  grpc::ChannelArguments args;
  args.SetUserAgentPrefix("callsclient/" CALLSD_VERSION);
  // A local daemon restarts in well under a second: reconnect quickly
  // rather than with gRPC's default backoff of up to two minutes. The
  // minimum stays at gRPC's default: it is also the time a connection gets
  // to see the server's first frame, and a socket-activated daemon needs
  // its start-up time for that.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      absl::StrCat("unix:", path), grpc::InsecureChannelCredentials(), args);
  return std::make_unique<GrpcClient>(std::move(path), options.deadline, std::move(channel));
}

}  // namespace callsd::client
