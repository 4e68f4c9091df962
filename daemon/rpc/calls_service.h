// CallsService: the gRPC face of the daemon. It only checks the caller's
// tier, decodes and validates requests, posts the work to the engine
// sequence and translates the answer back (bitcoin's src/interfaces/ idea:
// an IPC layer that wraps, never implements).
//
// Every method is registered "raw" (wire bytes in and out) so that a
// request that does not even decode gets INVALID_ARGUMENT naming the field
// (gRPC's own decoding failure is a bare UNIMPLEMENTED), and so that an
// event is serialised once for all watchers.
//
// Handlers run on gRPC's threads and never block: every RPC is finished
// exactly once, from the engine's callback, or at once on a denial or a
// bad request.
#ifndef CALLSD_DAEMON_RPC_CALLS_SERVICE_H_
#define CALLSD_DAEMON_RPC_CALLS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "absl/functional/any_invocable.h"
#include "callsd/v1/callsd.grpc.pb.h"
#include "common/scheduler.h"
#include "daemon/rpc/event_bus.h"
#include "daemon/rpc/peer_access.h"
#include "daemon/calls/call_registry.h"
#include "daemon/session/push_registry.h"
#include "daemon/session/session.h"

namespace callsd::daemon::rpc {

// Stacks the generated per-method "raw callback" layers on Calls::Service.
template <class Base, template <class> class... Layers>
struct StackLayers {
  using type = Base;
};
template <class Base, template <class> class Layer, template <class> class... Rest>
struct StackLayers<Base, Layer, Rest...> {
  using type = Layer<typename StackLayers<Base, Rest...>::type>;
};

using RawCallsService = StackLayers<
    callsd::v1::Calls::Service,  //
    callsd::v1::Calls::WithRawCallbackMethod_Init,
    callsd::v1::Calls::WithRawCallbackMethod_Authenticate,
    callsd::v1::Calls::WithRawCallbackMethod_Deauthenticate,
    callsd::v1::Calls::WithRawCallbackMethod_RefreshSessionToken,
    callsd::v1::Calls::WithRawCallbackMethod_GetState,
    callsd::v1::Calls::WithRawCallbackMethod_WatchEvents,
    callsd::v1::Calls::WithRawCallbackMethod_RegisterPushToken,
    callsd::v1::Calls::WithRawCallbackMethod_UnregisterPushToken,
    callsd::v1::Calls::WithRawCallbackMethod_UnregisterAllPushTokens,
    callsd::v1::Calls::WithRawCallbackMethod_ListPushTokens,
    callsd::v1::Calls::WithRawCallbackMethod_Dial,
    callsd::v1::Calls::WithRawCallbackMethod_Accept,
    callsd::v1::Calls::WithRawCallbackMethod_Decline,
    callsd::v1::Calls::WithRawCallbackMethod_End,
    callsd::v1::Calls::WithRawCallbackMethod_SetMuted,
    callsd::v1::Calls::WithRawCallbackMethod_ListCalls,
    callsd::v1::Calls::WithRawCallbackMethod_GetCallHistory,
    callsd::v1::Calls::WithRawCallbackMethod_DeliverPush,
    callsd::v1::Calls::WithRawCallbackMethod_CreateRoom,
    callsd::v1::Calls::WithRawCallbackMethod_EnterRoom,
    callsd::v1::Calls::WithRawCallbackMethod_ExitRoom,
    callsd::v1::Calls::WithRawCallbackMethod_SetRoomMuted,
    callsd::v1::Calls::WithRawCallbackMethod_DeleteRoom,
    callsd::v1::Calls::WithRawCallbackMethod_GetRoom,
    callsd::v1::Calls::WithRawCallbackMethod_ListRooms>::type;

class CallsService final : public RawCallsService {
 public:
  struct Deps {
    Scheduler* engine = nullptr;
    Session* session = nullptr;
    PushRegistry* push = nullptr;
    CallRegistry* calls = nullptr;
    EventBus* bus = nullptr;
    const PeerRegistry* peers = nullptr;
    AccessPolicy policy;
    // Events a watcher may fall behind before it is dropped.
    size_t watcher_queue = 1024;
  };

  explicit CallsService(Deps deps);

  using Ctx = grpc::CallbackServerContext;
  using Bytes = grpc::ByteBuffer;

  grpc::ServerUnaryReactor* Init(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* Authenticate(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* Deauthenticate(Ctx* ctx, const Bytes* request,
                                           Bytes* response) override;
  grpc::ServerUnaryReactor* RefreshSessionToken(Ctx* ctx, const Bytes* request,
                                                Bytes* response) override;
  grpc::ServerUnaryReactor* GetState(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerWriteReactor<Bytes>* WatchEvents(Ctx* ctx, const Bytes* request) override;
  grpc::ServerUnaryReactor* RegisterPushToken(Ctx* ctx, const Bytes* request,
                                              Bytes* response) override;
  grpc::ServerUnaryReactor* UnregisterPushToken(Ctx* ctx, const Bytes* request,
                                                Bytes* response) override;
  grpc::ServerUnaryReactor* UnregisterAllPushTokens(Ctx* ctx, const Bytes* request,
                                                    Bytes* response) override;
  grpc::ServerUnaryReactor* ListPushTokens(Ctx* ctx, const Bytes* request,
                                           Bytes* response) override;
  grpc::ServerUnaryReactor* Dial(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* Accept(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* Decline(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* End(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* SetMuted(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* ListCalls(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* GetCallHistory(Ctx* ctx, const Bytes* request,
                                           Bytes* response) override;
  grpc::ServerUnaryReactor* DeliverPush(Ctx* ctx, const Bytes* request,
                                        Bytes* response) override;
  grpc::ServerUnaryReactor* CreateRoom(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* EnterRoom(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* ExitRoom(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* SetRoomMuted(Ctx* ctx, const Bytes* request,
                                         Bytes* response) override;
  grpc::ServerUnaryReactor* DeleteRoom(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* GetRoom(Ctx* ctx, const Bytes* request, Bytes* response) override;
  grpc::ServerUnaryReactor* ListRooms(Ctx* ctx, const Bytes* request, Bytes* response) override;

 private:
  // Answers a unary call once, from any thread.
  template <typename Resp>
  using Reply = absl::AnyInvocable<void(absl::StatusOr<Resp>) &&>;

  // The common shape of a unary call: check the tier (MethodTier(method)),
  // decode and validate the request, then run `work` on the engine (or at
  // once when `on_engine` is false: reads of thread-safe state).
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Unary(Ctx* ctx, const Bytes* request, Bytes* response,
                                  const char* method,
                                  absl::AnyInvocable<void(Req, Reply<Resp>) &&> work,
                                  bool on_engine = true);

  absl::Status CheckPeer(Ctx* ctx, Tier tier, const char* method) const;
  void FillState(callsd::v1::State* out) const;
  // A call action on the engine whose answer is the call (Accept, End...).
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* CallAction(
      Ctx* ctx, const Bytes* request, Bytes* response, const char* method,
      absl::AnyInvocable<void(CallRegistry*, const Req&, CallRegistry::Done<CallRecord>)> action);
  // A room action on the engine whose answer is the room (EnterRoom...).
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* RoomAction(
      Ctx* ctx, const Bytes* request, Bytes* response, const char* method,
      absl::AnyInvocable<void(RoomRegistry*, const Req&, RoomRegistry::Done<RoomRecord>)> action);

  const Deps deps_;
};

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_CALLS_SERVICE_H_
