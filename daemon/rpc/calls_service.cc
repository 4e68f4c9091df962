#include "daemon/rpc/calls_service.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/calls_error.h"
#include "daemon/rpc/byte_buffer_util.h"
#include "daemon/rpc/proto_conversion.h"
#include "daemon/rpc/request_decoding.h"
#include "daemon/rpc/status_conversion.h"
#include "daemon/rpc/validation.h"
#include "glog/logging.h"

namespace callsd::daemon::rpc {
namespace {

using callsd::v1::Event;
using Bytes = grpc::ByteBuffer;

TokenKind FromProto(callsd::v1::TokenKind kind) {
  return kind == callsd::v1::TOKEN_KIND_SESSION_TOKEN ? TokenKind::kSessionToken
                                                      : TokenKind::kAccessToken;
}

absl::Status Decode(const Bytes* buffer, google::protobuf::Message* out) {
  return DecodeRequest(FlattenByteBuffer(*buffer), out);
}

// One WatchEvents stream. The bus holds it (as an EventSubscriber) and the
// reactor below points at it; it owns the queue of events not yet written.
// All calls into the reactor (StartWrite, Finish) are made under mu_: gRPC
// never runs OnWriteDone/OnDone inline from them, so this cannot deadlock.
class WatchStream final : public EventSubscriber {
 public:
  WatchStream(grpc::ServerWriteReactor<Bytes>* reactor, size_t limit)
      : reactor_(reactor), limit_(limit) {}

  bool Deliver(EventPtr event) override {
    absl::MutexLock lock(&mu_);
    if (finished_ || reactor_ == nullptr) return false;
    if (queue_.size() >= limit_) {
      LOG(WARNING) << "dropping a watcher that fell " << queue_.size() << " events behind";
      FinishLocked(ToGrpcStatus(CallsError(
          absl::StatusCode::kResourceExhausted, 0,
          absl::StrCat("this watcher fell more than ", limit_,
                       " events behind and was dropped"),
          {}, "watch again to resume from a new snapshot; read events as they come")));
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
    reactor_->StartWrite(&current_->bytes);
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
  grpc::ServerWriteReactor<Bytes>* reactor_ ABSL_GUARDED_BY(mu_);
  const size_t limit_;
  std::deque<EventPtr> queue_ ABSL_GUARDED_BY(mu_);
  EventPtr current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

class WatchReactor final : public grpc::ServerWriteReactor<Bytes> {
 public:
  WatchReactor(EventBus* bus, size_t limit)
      : bus_(bus), stream_(std::make_shared<WatchStream>(this, limit)) {}

  std::shared_ptr<WatchStream> stream() const { return stream_; }

  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override { stream_->OnCancel(); }
  void OnDone() override {
    stream_->OnDone();
    // The bus would notice only at its next event; a quiet daemon would
    // keep every ended watcher until then.
    bus_->Unsubscribe(stream_.get());
    delete this;
  }

 private:
  EventBus* const bus_;
  const std::shared_ptr<WatchStream> stream_;
};

class RefusedWatch final : public grpc::ServerWriteReactor<Bytes> {
 public:
  explicit RefusedWatch(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

CallsService::CallsService(Deps deps) : deps_(std::move(deps)) {}

absl::Status CallsService::CheckPeer(Ctx* ctx, Tier tier, const char* method) const {
  const std::string peer_name = ctx->peer();
  std::optional<PeerCredentials> peer = deps_.peers->Lookup(peer_name);
  if (!peer) {
    LOG(WARNING) << method << " from an unknown peer " << peer_name << " refused";
    return absl::PermissionDeniedError(std::string("permission denied: ") + method +
                                       " refused: the caller's credentials are unknown");
  }
  VLOG(1) << method << " from uid " << peer->uid << " pid " << peer->pid;
  return deps_.policy.Check(*peer, tier, method);
}

void CallsService::FillState(callsd::v1::State* out) const { *out = *deps_.bus->state(); }

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* CallsService::Unary(Ctx* ctx, const Bytes* request, Bytes* response,
                                              const char* method,
                                              absl::AnyInvocable<void(Req, Reply<Resp>) &&> work,
                                              bool on_engine) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  // A method missing from the table needs the highest tier.
  const Tier tier = MethodTier(method).value_or(Tier::kAdmin);
  if (absl::Status denied = CheckPeer(ctx, tier, method); !denied.ok()) {
    reactor->Finish(ToGrpcStatus(denied, TierName(tier)));
    return reactor;
  }
  Req req;
  absl::Status valid = Decode(request, &req);
  if (valid.ok()) valid = Validate(req);
  if (!valid.ok()) {
    VLOG(1) << method << " refused: " << valid.message();
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  // The reply serialises into gRPC's response buffer (valid until Finish).
  Reply<Resp> reply = [reactor, response](absl::StatusOr<Resp> result) {
    if (result.ok()) SerializeToByteBuffer(*result, response);
    reactor->Finish(ToGrpcStatus(result.status()));
  };
  if (!on_engine) {
    std::move(work)(std::move(req), std::move(reply));
    return reactor;
  }
  deps_.engine->Post([work = std::move(work), req = std::move(req),
                      reply = std::move(reply)]() mutable {
    std::move(work)(std::move(req), std::move(reply));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::Init(Ctx* ctx, const Bytes* request, Bytes* response) {
  using Req = callsd::v1::InitRequest;
  using Resp = callsd::v1::InitResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "Init", [this](Req req, Reply<Resp> reply) {
        deps_.session->Init(req.app_id(), [this, reply = std::move(reply)](
                                              absl::StatusOr<Session::InitResult> r) mutable {
          if (!r.ok()) return std::move(reply)(r.status());
          Resp resp;
          resp.set_changed(r->changed);
          resp.set_previous_app_id(r->previous_app_id);
          FillState(resp.mutable_state());
          std::move(reply)(std::move(resp));
        });
      });
}

grpc::ServerUnaryReactor* CallsService::Authenticate(Ctx* ctx, const Bytes* request,
                                                     Bytes* response) {
  using Req = callsd::v1::AuthenticateRequest;
  using Resp = callsd::v1::AuthenticateResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "Authenticate", [this](Req req, Reply<Resp> reply) {
        deps_.session->Authenticate(
            req.user_id(), FromProto(req.token_kind()), req.token(),
            [this, reply = std::move(reply)](absl::StatusOr<SessionSnapshot> r) mutable {
              if (!r.ok()) return std::move(reply)(r.status());
              Resp resp;
              resp.mutable_user()->set_user_id(r->user_id);
              resp.mutable_user()->set_nickname(r->nickname);
              FillState(resp.mutable_state());
              std::move(reply)(std::move(resp));
            });
      });
}

grpc::ServerUnaryReactor* CallsService::Deauthenticate(Ctx* ctx, const Bytes* request,
                                                       Bytes* response) {
  using Req = callsd::v1::DeauthenticateRequest;
  using Resp = callsd::v1::DeauthenticateResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "Deauthenticate",
      [this](Req req, Reply<Resp> reply) {
        deps_.session->Deauthenticate(
            req.keep_push_tokens(),
            [this, reply = std::move(reply)](absl::StatusOr<Session::DeauthResult> r) mutable {
              if (!r.ok()) return std::move(reply)(r.status());
              Resp resp;
              resp.set_server_confirmed(r->server_confirmed);
              resp.set_pending_operations(r->pending_operations);
              FillState(resp.mutable_state());
              std::move(reply)(std::move(resp));
            });
      });
}

grpc::ServerUnaryReactor* CallsService::RefreshSessionToken(Ctx* ctx, const Bytes* request,
                                                            Bytes* response) {
  using Req = callsd::v1::RefreshSessionTokenRequest;
  using Resp = callsd::v1::RefreshSessionTokenResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "RefreshSessionToken",
      [this](Req req, Reply<Resp> reply) {
        deps_.session->RefreshSessionToken(
            req.token(), [this, reply = std::move(reply)](absl::StatusOr<absl::Time> r) mutable {
              if (!r.ok()) return std::move(reply)(r.status());
              Resp resp;
              if (*r != absl::InfiniteFuture()) ToProto(*r, resp.mutable_expires_at());
              FillState(resp.mutable_state());
              std::move(reply)(std::move(resp));
            });
      });
}

grpc::ServerUnaryReactor* CallsService::GetState(Ctx* ctx, const Bytes* request,
                                                 Bytes* response) {
  using Req = callsd::v1::GetStateRequest;
  using Resp = callsd::v1::State;
  // The bus keeps the state current from the engine: no hop needed.
  return Unary<Req, Resp>(
      ctx, request, response, "GetState",
      [this](Req, Reply<Resp> reply) { std::move(reply)(*deps_.bus->state()); },
      /*on_engine=*/false);
}

grpc::ServerWriteReactor<Bytes>* CallsService::WatchEvents(Ctx* ctx, const Bytes* request) {
  const Tier tier = MethodTier("WatchEvents").value_or(Tier::kAdmin);
  if (absl::Status denied = CheckPeer(ctx, tier, "WatchEvents"); !denied.ok()) {
    return new RefusedWatch(ToGrpcStatus(denied, TierName(tier)));
  }
  callsd::v1::WatchEventsRequest req;
  if (absl::Status valid = Decode(request, &req); !valid.ok()) {
    return new RefusedWatch(ToGrpcStatus(valid));
  }
  auto* reactor = new WatchReactor(deps_.bus, deps_.watcher_queue);
  deps_.engine->Post([bus = deps_.bus, stream = reactor->stream()]() mutable {
    bus->Subscribe(std::move(stream));
  });
  return reactor;
}

grpc::ServerUnaryReactor* CallsService::RegisterPushToken(Ctx* ctx, const Bytes* request,
                                                          Bytes* response) {
  using Req = callsd::v1::RegisterPushTokenRequest;
  using Resp = callsd::v1::RegisterPushTokenResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "RegisterPushToken",
      [this](Req req, Reply<Resp> reply) {
        deps_.push->Register(
            *FromProto(req.type()), req.token(), req.unique(),
            [reply = std::move(reply)](absl::StatusOr<StoredPushToken> r) mutable {
              if (!r.ok()) return std::move(reply)(r.status());
              Resp resp;
              ToProto(*r, resp.mutable_token());
              std::move(reply)(std::move(resp));
            });
      });
}

grpc::ServerUnaryReactor* CallsService::UnregisterPushToken(Ctx* ctx, const Bytes* request,
                                                            Bytes* response) {
  using Req = callsd::v1::UnregisterPushTokenRequest;
  using Resp = callsd::v1::UnregisterPushTokenResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "UnregisterPushToken",
      [this](Req req, Reply<Resp> reply) {
        deps_.push->Unregister(*FromProto(req.type()), req.token(),
                               [reply = std::move(reply)](absl::StatusOr<bool> r) mutable {
                                 if (!r.ok()) return std::move(reply)(r.status());
                                 Resp resp;
                                 resp.set_server_confirmed(*r);
                                 std::move(reply)(std::move(resp));
                               });
      });
}

grpc::ServerUnaryReactor* CallsService::UnregisterAllPushTokens(Ctx* ctx, const Bytes* request,
                                                                Bytes* response) {
  using Req = callsd::v1::UnregisterAllPushTokensRequest;
  using Resp = callsd::v1::UnregisterAllPushTokensResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "UnregisterAllPushTokens",
      [this](Req req, Reply<Resp> reply) {
        deps_.push->UnregisterAll(*FromProto(req.type()),
                                  [reply = std::move(reply)](absl::StatusOr<bool> r) mutable {
                                    if (!r.ok()) return std::move(reply)(r.status());
                                    Resp resp;
                                    resp.set_server_confirmed(*r);
                                    std::move(reply)(std::move(resp));
                                  });
      });
}

grpc::ServerUnaryReactor* CallsService::ListPushTokens(Ctx* ctx, const Bytes* request,
                                                       Bytes* response) {
  using Req = callsd::v1::ListPushTokensRequest;
  using Resp = callsd::v1::ListPushTokensResponse;
  return Unary<Req, Resp>(ctx, request, response, "ListPushTokens",
                          [this](Req, Reply<Resp> reply) {
                            Resp resp;
                            for (const StoredPushToken& t : deps_.push->tokens()) {
                              ToProto(t, resp.add_tokens());
                            }
                            resp.set_pending_unregistrations(
                                deps_.push->pending_unregistrations());
                            std::move(reply)(std::move(resp));
                          });
}

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* CallsService::CallAction(
    Ctx* ctx, const Bytes* request, Bytes* response, const char* method,
    absl::AnyInvocable<void(CallRegistry*, const Req&, CallRegistry::Done<CallRecord>)> action) {
  return Unary<Req, Resp>(
      ctx, request, response, method,
      [this, action = std::move(action)](Req req, Reply<Resp> reply) mutable {
        action(deps_.calls, req,
               [this, reply = std::move(reply)](absl::StatusOr<CallRecord> call) mutable {
                 if (!call.ok()) return std::move(reply)(call.status());
                 Resp resp;
                 ToProto(*call, deps_.engine->clock().Now(), resp.mutable_call());
                 std::move(reply)(std::move(resp));
               });
      });
}

grpc::ServerUnaryReactor* CallsService::Dial(Ctx* ctx, const Bytes* request, Bytes* response) {
  using Req = callsd::v1::DialRequest;
  return CallAction<Req, callsd::v1::DialResponse>(
      ctx, request, response, "Dial",
      [](CallRegistry* calls, const Req& req, CallRegistry::Done<CallRecord> done) {
        calls->Dial(req.callee_id(), req.video(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::Accept(Ctx* ctx, const Bytes* request,
                                               Bytes* response) {
  using Req = callsd::v1::AcceptRequest;
  return CallAction<Req, callsd::v1::AcceptResponse>(
      ctx, request, response, "Accept",
      [](CallRegistry* calls, const Req& req, CallRegistry::Done<CallRecord> done) {
        calls->Accept(req.call_id(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::Decline(Ctx* ctx, const Bytes* request,
                                                Bytes* response) {
  using Req = callsd::v1::DeclineRequest;
  return CallAction<Req, callsd::v1::DeclineResponse>(
      ctx, request, response, "Decline",
      [](CallRegistry* calls, const Req& req, CallRegistry::Done<CallRecord> done) {
        calls->Decline(req.call_id(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::End(Ctx* ctx, const Bytes* request, Bytes* response) {
  using Req = callsd::v1::EndRequest;
  return CallAction<Req, callsd::v1::EndResponse>(
      ctx, request, response, "End",
      [](CallRegistry* calls, const Req& req, CallRegistry::Done<CallRecord> done) {
        calls->End(req.call_id(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::SetMuted(Ctx* ctx, const Bytes* request,
                                                 Bytes* response) {
  using Req = callsd::v1::SetMutedRequest;
  return CallAction<Req, callsd::v1::SetMutedResponse>(
      ctx, request, response, "SetMuted",
      [](CallRegistry* calls, const Req& req, CallRegistry::Done<CallRecord> done) {
        calls->SetMuted(req.call_id(), req.muted(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::ListCalls(Ctx* ctx, const Bytes* request,
                                                  Bytes* response) {
  using Req = callsd::v1::ListCallsRequest;
  using Resp = callsd::v1::ListCallsResponse;
  return Unary<Req, Resp>(ctx, request, response, "ListCalls",
                          [this](Req, Reply<Resp> reply) {
                            Resp resp;
                            const absl::Time now = deps_.engine->clock().Now();
                            for (const CallRecord& c : deps_.calls->List()) {
                              ToProto(c, now, resp.add_calls());
                            }
                            std::move(reply)(std::move(resp));
                          });
}

grpc::ServerUnaryReactor* CallsService::GetCallHistory(Ctx* ctx, const Bytes* request,
                                                       Bytes* response) {
  using Req = callsd::v1::GetCallHistoryRequest;
  using Resp = callsd::v1::GetCallHistoryResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "GetCallHistory", [this](Req req, Reply<Resp> reply) {
        const SessionSnapshot& me = deps_.session->snapshot();
        deps_.calls->GetHistory(
            req.limit() == 0 ? 20 : req.limit(), req.next(),
            [user = me.user_id, reply = std::move(reply)](
                absl::StatusOr<CallRegistry::History> history) mutable {
              if (!history.ok()) return std::move(reply)(history.status());
              Resp resp;
              for (const wire::v1::CallInfo& info : history->calls) {
                ToProto(info, user, resp.add_calls());
              }
              resp.set_next(history->next);
              resp.set_from_cache(history->from_cache);
              std::move(reply)(std::move(resp));
            });
      });
}

grpc::ServerUnaryReactor* CallsService::DeliverPush(Ctx* ctx, const Bytes* request,
                                                    Bytes* response) {
  using Req = callsd::v1::DeliverPushRequest;
  using Resp = callsd::v1::DeliverPushResponse;
  return Unary<Req, Resp>(
      ctx, request, response, "DeliverPush", [this](Req req, Reply<Resp> reply) {
        deps_.calls->DeliverPush(
            req.payload(), [this, reply = std::move(reply)](
                               absl::StatusOr<CallRegistry::PushResult> result) mutable {
              if (!result.ok()) return std::move(reply)(result.status());
              Resp resp;
              resp.set_outcome(ToProto(result->outcome));
              if (result->call) {
                ToProto(*result->call, deps_.engine->clock().Now(), resp.mutable_call());
              }
              std::move(reply)(std::move(resp));
            });
      });
}

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* CallsService::RoomAction(
    Ctx* ctx, const Bytes* request, Bytes* response, const char* method,
    absl::AnyInvocable<void(RoomRegistry*, const Req&, RoomRegistry::Done<RoomRecord>)> action) {
  return Unary<Req, Resp>(
      ctx, request, response, method,
      [this, action = std::move(action)](Req req, Reply<Resp> reply) mutable {
        action(deps_.calls->rooms(), req,
               [reply = std::move(reply)](absl::StatusOr<RoomRecord> room) mutable {
                 if (!room.ok()) return std::move(reply)(room.status());
                 Resp resp;
                 ToProto(*room, resp.mutable_room());
                 std::move(reply)(std::move(resp));
               });
      });
}

grpc::ServerUnaryReactor* CallsService::CreateRoom(Ctx* ctx, const Bytes* request,
                                                   Bytes* response) {
  using Req = callsd::v1::CreateRoomRequest;
  return RoomAction<Req, callsd::v1::CreateRoomResponse>(
      ctx, request, response, "CreateRoom",
      [](RoomRegistry* rooms, const Req& req, RoomRegistry::Done<RoomRecord> done) {
        // Validated: the type is one of RoomType's.
        rooms->Create(FromProto(req.type()).value_or(RoomType::kSmall), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::EnterRoom(Ctx* ctx, const Bytes* request,
                                                  Bytes* response) {
  using Req = callsd::v1::EnterRoomRequest;
  return RoomAction<Req, callsd::v1::EnterRoomResponse>(
      ctx, request, response, "EnterRoom",
      [](RoomRegistry* rooms, const Req& req, RoomRegistry::Done<RoomRecord> done) {
        rooms->Enter(req.room_id(), req.muted(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::ExitRoom(Ctx* ctx, const Bytes* request,
                                                 Bytes* response) {
  using Req = callsd::v1::ExitRoomRequest;
  return RoomAction<Req, callsd::v1::ExitRoomResponse>(
      ctx, request, response, "ExitRoom",
      [](RoomRegistry* rooms, const Req& req, RoomRegistry::Done<RoomRecord> done) {
        rooms->Exit(req.room_id(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::SetRoomMuted(Ctx* ctx, const Bytes* request,
                                                     Bytes* response) {
  using Req = callsd::v1::SetRoomMutedRequest;
  return RoomAction<Req, callsd::v1::SetRoomMutedResponse>(
      ctx, request, response, "SetRoomMuted",
      [](RoomRegistry* rooms, const Req& req, RoomRegistry::Done<RoomRecord> done) {
        rooms->SetMuted(req.room_id(), req.muted(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::GetRoom(Ctx* ctx, const Bytes* request,
                                                Bytes* response) {
  using Req = callsd::v1::GetRoomRequest;
  return RoomAction<Req, callsd::v1::GetRoomResponse>(
      ctx, request, response, "GetRoom",
      [](RoomRegistry* rooms, const Req& req, RoomRegistry::Done<RoomRecord> done) {
        rooms->Get(req.room_id(), std::move(done));
      });
}

grpc::ServerUnaryReactor* CallsService::DeleteRoom(Ctx* ctx, const Bytes* request,
                                                   Bytes* response) {
  using Req = callsd::v1::DeleteRoomRequest;
  using Resp = callsd::v1::DeleteRoomResponse;
  return Unary<Req, Resp>(ctx, request, response, "DeleteRoom",
                          [this](Req req, Reply<Resp> reply) {
                            deps_.calls->rooms()->Delete(
                                req.room_id(), [reply = std::move(reply)](absl::Status s) mutable {
                                  if (!s.ok()) return std::move(reply)(s);
                                  std::move(reply)(Resp());
                                });
                          });
}

grpc::ServerUnaryReactor* CallsService::ListRooms(Ctx* ctx, const Bytes* request,
                                                  Bytes* response) {
  using Req = callsd::v1::ListRoomsRequest;
  using Resp = callsd::v1::ListRoomsResponse;
  return Unary<Req, Resp>(ctx, request, response, "ListRooms", [this](Req, Reply<Resp> reply) {
    Resp resp;
    for (const RoomRecord* room : deps_.calls->rooms()->Refs()) ToProto(*room, resp.add_rooms());
    std::move(reply)(std::move(resp));
  });
}

}  // namespace callsd::daemon::rpc
