// CallsService: the gRPC face of the daemon. It only checks the caller's
// tier, validates and translates requests, posts the work to the engine
// sequence and translates the answer back (bitcoin's src/interfaces/ idea:
// an IPC layer that wraps, never implements).
//
// Handlers run on gRPC's threads and never block: every RPC is finished
// exactly once, from the engine's callback, or at once on a denial or a
// validation error.
#ifndef CALLSD_DAEMON_RPC_CALLS_SERVICE_H_
#define CALLSD_DAEMON_RPC_CALLS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "callsd/v1/callsd.grpc.pb.h"
#include "common/scheduler.h"
#include "daemon/rpc/event_bus.h"
#include "daemon/rpc/peer_access.h"
#include "daemon/session/push_registry.h"
#include "daemon/session/session.h"

namespace callsd::daemon::rpc {

class CallsService final : public callsd::v1::Calls::CallbackService {
 public:
  struct Deps {
    Scheduler* engine = nullptr;
    Session* session = nullptr;
    PushRegistry* push = nullptr;
    EventBus* bus = nullptr;
    const PeerRegistry* peers = nullptr;
    AccessPolicy policy;
    // Events a watcher may fall behind before it is dropped.
    size_t watcher_queue = 1024;
  };

  explicit CallsService(Deps deps);

  grpc::ServerUnaryReactor* Init(grpc::CallbackServerContext* ctx,
                                 const callsd::v1::InitRequest* request,
                                 callsd::v1::InitResponse* response) override;
  grpc::ServerUnaryReactor* Authenticate(grpc::CallbackServerContext* ctx,
                                         const callsd::v1::AuthenticateRequest* request,
                                         callsd::v1::AuthenticateResponse* response) override;
  grpc::ServerUnaryReactor* Deauthenticate(grpc::CallbackServerContext* ctx,
                                           const callsd::v1::DeauthenticateRequest* request,
                                           callsd::v1::DeauthenticateResponse* response) override;
  grpc::ServerUnaryReactor* RefreshSessionToken(
      grpc::CallbackServerContext* ctx, const callsd::v1::RefreshSessionTokenRequest* request,
      callsd::v1::RefreshSessionTokenResponse* response) override;
  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* ctx,
                                     const callsd::v1::GetStateRequest* request,
                                     callsd::v1::State* response) override;
  grpc::ServerWriteReactor<callsd::v1::Event>* WatchEvents(
      grpc::CallbackServerContext* ctx, const callsd::v1::WatchEventsRequest* request) override;

  grpc::ServerUnaryReactor* RegisterPushToken(
      grpc::CallbackServerContext* ctx, const callsd::v1::RegisterPushTokenRequest* request,
      callsd::v1::RegisterPushTokenResponse* response) override;
  grpc::ServerUnaryReactor* UnregisterPushToken(
      grpc::CallbackServerContext* ctx, const callsd::v1::UnregisterPushTokenRequest* request,
      callsd::v1::UnregisterPushTokenResponse* response) override;
  grpc::ServerUnaryReactor* UnregisterAllPushTokens(
      grpc::CallbackServerContext* ctx, const callsd::v1::UnregisterAllPushTokensRequest* request,
      callsd::v1::UnregisterAllPushTokensResponse* response) override;
  grpc::ServerUnaryReactor* ListPushTokens(grpc::CallbackServerContext* ctx,
                                           const callsd::v1::ListPushTokensRequest* request,
                                           callsd::v1::ListPushTokensResponse* response) override;

 private:
  // Checks the caller's tier and the request's validity; on failure
  // finishes `reactor` and returns false.
  bool Admit(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor, Tier tier,
             const char* method, const absl::Status& validation = absl::OkStatus());
  absl::Status CheckPeer(grpc::CallbackServerContext* ctx, Tier tier, const char* method,
                         std::string* tier_name);
  void FillState(callsd::v1::State* out) const;

  const Deps deps_;
};

}  // namespace callsd::daemon::rpc

#endif  // CALLSD_DAEMON_RPC_CALLS_SERVICE_H_
