#include "daemon/rpc/calls_service.h"

#include <deque>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "daemon/rpc/proto_conversion.h"
#include "daemon/rpc/status_conversion.h"
#include "daemon/rpc/validation.h"
#include "glog/logging.h"

namespace callsd::daemon::rpc {
namespace {

using callsd::v1::Event;

TokenKind FromProto(callsd::v1::TokenKind kind) {
  return kind == callsd::v1::TOKEN_KIND_SESSION_TOKEN ? TokenKind::kSessionToken
                                                      : TokenKind::kAccessToken;
}

// One WatchEvents stream. The bus holds it (as an EventSubscriber) and the
// reactor below points at it; it owns the queue of events not yet written.
// All calls into the reactor (StartWrite, Finish) are made under mu_: gRPC
// never runs OnWriteDone/OnDone inline from them, so this cannot deadlock.
class WatchStream final : public EventSubscriber {
 public:
  WatchStream(grpc::ServerWriteReactor<Event>* reactor, size_t limit)
      : reactor_(reactor), limit_(limit) {}

  bool Deliver(EventPtr event) override {
    absl::MutexLock lock(&mu_);
    if (finished_ || reactor_ == nullptr) return false;
    if (queue_.size() >= limit_) {
      LOG(WARNING) << "dropping a watcher that fell " << queue_.size() << " events behind";
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "this watcher fell more than " + std::to_string(limit_) +
                                    " events behind and was dropped; watch again to resume "
                                    "from a new snapshot"));
      return false;
    }
    queue_.push_back(std::move(event));
    if (!writing_) WriteNextLocked();
    return true;
  }

  void Close(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    FinishLocked(ToGrpcStatus(status));
  }

  // Reactor side.
  void OnWriteDone(bool ok) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    current_.reset();
    if (pending_finish_) {
      reactor_->Finish(*std::move(pending_finish_));
      pending_finish_.reset();
      return;
    }
    if (!ok) {
      // The client went away: nothing more can be written.
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watcher went away"));
      return;
    }
    if (!queue_.empty() && !finished_) WriteNextLocked();
  }
  void OnCancel() {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watcher cancelled"));
  }
  void OnDone() {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
    queue_.clear();
  }

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    current_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    reactor_->StartWrite(current_.get());
  }

  // Finish once; after the write in flight, if any.
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || reactor_ == nullptr) return;
    finished_ = true;
    queue_.clear();
    if (writing_) {
      pending_finish_ = std::move(status);
    } else {
      reactor_->Finish(std::move(status));
    }
  }

  absl::Mutex mu_;
  grpc::ServerWriteReactor<Event>* reactor_ ABSL_GUARDED_BY(mu_);
  const size_t limit_;
  std::deque<EventPtr> queue_ ABSL_GUARDED_BY(mu_);
  EventPtr current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

class WatchReactor final : public grpc::ServerWriteReactor<Event> {
 public:
  explicit WatchReactor(size_t limit) : stream_(std::make_shared<WatchStream>(this, limit)) {}

  std::shared_ptr<WatchStream> stream() const { return stream_; }

  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->OnCancel(); }
  void OnDone() override {
    stream_->OnDone();
    delete this;
  }

 private:
  const std::shared_ptr<WatchStream> stream_;
};

class DeniedWatch final : public grpc::ServerWriteReactor<Event> {
 public:
  explicit DeniedWatch(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

CallsService::CallsService(Deps deps) : deps_(std::move(deps)) {}

absl::Status CallsService::CheckPeer(grpc::CallbackServerContext* ctx, Tier tier,
                                     const char* method, std::string* tier_name) {
  *tier_name = TierName(tier);
  const std::string peer_name = ctx->peer();
  std::optional<PeerCredentials> peer = deps_.peers->Lookup(peer_name);
  if (!peer) {
    LOG(WARNING) << method << " from an unknown peer " << peer_name << " refused";
    return absl::PermissionDeniedError(
        std::string(method) + " refused: the caller's credentials are unknown");
  }
  VLOG(1) << method << " from uid " << peer->uid << " pid " << peer->pid;
  return deps_.policy.Check(*peer, tier, method);
}

bool CallsService::Admit(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                         Tier tier, const char* method, const absl::Status& validation) {
  std::string tier_name;
  absl::Status status = CheckPeer(ctx, tier, method, &tier_name);
  if (!status.ok()) {
    reactor->Finish(ToGrpcStatus(status, tier_name));
    return false;
  }
  if (!validation.ok()) {
    reactor->Finish(ToGrpcStatus(validation));
    return false;
  }
  return true;
}

void CallsService::FillState(callsd::v1::State* out) const { *out = *deps_.bus->state(); }

grpc::ServerUnaryReactor* CallsService::Init(grpc::CallbackServerContext* ctx,
                                             const callsd::v1::InitRequest* request,
                                             callsd::v1::InitResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "Init", Validate(*request))) return reactor;
  deps_.engine->Post([this, reactor, response, app_id = request->app_id()] {
    deps_.session->Init(app_id, [this, reactor, response](
                                    absl::StatusOr<Session::InitResult> result) {
      if (result.ok()) {
        response->set_changed(result->changed);
        response->set_previous_app_id(result->previous_app_id);
        FillState(response->mutable_state());
      }
      reactor->Finish(ToGrpcStatus(result.status()));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::Authenticate(
    grpc::CallbackServerContext* ctx, const callsd::v1::AuthenticateRequest* request,
    callsd::v1::AuthenticateResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "Authenticate", Validate(*request))) return reactor;
  deps_.engine->Post([this, reactor, response, user_id = request->user_id(),
                      kind = FromProto(request->token_kind()), token = request->token()] {
    deps_.session->Authenticate(
        user_id, kind, token,
        [this, reactor, response](absl::StatusOr<SessionSnapshot> result) {
          if (result.ok()) {
            response->mutable_user()->set_user_id(result->user_id);
            response->mutable_user()->set_nickname(result->nickname);
            FillState(response->mutable_state());
          }
          reactor->Finish(ToGrpcStatus(result.status()));
        });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::Deauthenticate(
    grpc::CallbackServerContext* ctx, const callsd::v1::DeauthenticateRequest* request,
    callsd::v1::DeauthenticateResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "Deauthenticate")) return reactor;
  deps_.engine->Post([this, reactor, response, keep = request->keep_push_tokens()] {
    deps_.session->Deauthenticate(
        keep, [this, reactor, response](absl::StatusOr<Session::DeauthResult> result) {
          if (result.ok()) {
            response->set_server_confirmed(result->server_confirmed);
            response->set_pending_operations(result->pending_operations);
            FillState(response->mutable_state());
          }
          reactor->Finish(ToGrpcStatus(result.status()));
        });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::RefreshSessionToken(
    grpc::CallbackServerContext* ctx, const callsd::v1::RefreshSessionTokenRequest* request,
    callsd::v1::RefreshSessionTokenResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "RefreshSessionToken", Validate(*request))) {
    return reactor;
  }
  deps_.engine->Post([this, reactor, response, token = request->token()] {
    deps_.session->RefreshSessionToken(
        token, [this, reactor, response](absl::StatusOr<absl::Time> result) {
          if (result.ok()) {
            if (*result != absl::InfiniteFuture()) ToProto(*result, response->mutable_expires_at());
            FillState(response->mutable_state());
          }
          reactor->Finish(ToGrpcStatus(result.status()));
        });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::GetState(grpc::CallbackServerContext* ctx,
                                                 const callsd::v1::GetStateRequest* request,
                                                 callsd::v1::State* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kRead, "GetState")) return reactor;
  // The bus keeps the state current from the engine: no hop needed.
  FillState(response);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<Event>* CallsService::WatchEvents(
    grpc::CallbackServerContext* ctx, const callsd::v1::WatchEventsRequest* request) {
  std::string tier_name;
  absl::Status status = CheckPeer(ctx, Tier::kRead, "WatchEvents", &tier_name);
  if (!status.ok()) return new DeniedWatch(ToGrpcStatus(status, tier_name));
  auto* reactor = new WatchReactor(deps_.watcher_queue);
  deps_.engine->Post([bus = deps_.bus, stream = reactor->stream()]() mutable {
    bus->Subscribe(std::move(stream));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::RegisterPushToken(
    grpc::CallbackServerContext* ctx, const callsd::v1::RegisterPushTokenRequest* request,
    callsd::v1::RegisterPushTokenResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "RegisterPushToken", Validate(*request))) return reactor;
  deps_.engine->Post([this, reactor, response, type = *FromProto(request->type()),
                      token = request->token(), unique = request->unique()] {
    deps_.push->Register(type, token, unique,
                         [reactor, response](absl::StatusOr<StoredPushToken> result) {
                           if (result.ok()) ToProto(*result, response->mutable_token());
                           reactor->Finish(ToGrpcStatus(result.status()));
                         });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::UnregisterPushToken(
    grpc::CallbackServerContext* ctx, const callsd::v1::UnregisterPushTokenRequest* request,
    callsd::v1::UnregisterPushTokenResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "UnregisterPushToken", Validate(*request))) {
    return reactor;
  }
  deps_.engine->Post([this, reactor, response, type = *FromProto(request->type()),
                      token = request->token()] {
    deps_.push->Unregister(type, token, [reactor, response](absl::StatusOr<bool> confirmed) {
      if (confirmed.ok()) response->set_server_confirmed(*confirmed);
      reactor->Finish(ToGrpcStatus(confirmed.status()));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::UnregisterAllPushTokens(
    grpc::CallbackServerContext* ctx, const callsd::v1::UnregisterAllPushTokensRequest* request,
    callsd::v1::UnregisterAllPushTokensResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kAdmin, "UnregisterAllPushTokens", Validate(*request))) {
    return reactor;
  }
  deps_.engine->Post([this, reactor, response, type = *FromProto(request->type())] {
    deps_.push->UnregisterAll(type, [reactor, response](absl::StatusOr<bool> confirmed) {
      if (confirmed.ok()) response->set_server_confirmed(*confirmed);
      reactor->Finish(ToGrpcStatus(confirmed.status()));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::ListPushTokens(
    grpc::CallbackServerContext* ctx, const callsd::v1::ListPushTokensRequest* request,
    callsd::v1::ListPushTokensResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Admit(ctx, reactor, Tier::kRead, "ListPushTokens")) return reactor;
  deps_.engine->Post([this, reactor, response] {
    for (const StoredPushToken& t : deps_.push->tokens()) ToProto(t, response->add_tokens());
    response->set_pending_unregistrations(deps_.push->pending_unregistrations());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace callsd::daemon::rpc
