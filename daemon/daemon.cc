#include "daemon/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/event_loop.h"
#include "common/http/lws_http_client.h"
#include "common/status_macros.h"
#include "daemon/backend/lws_call_channel.h"
#include "daemon/backend/rest_backend.h"
#include "daemon/calls/call_registry.h"
#include "daemon/push/push_endpoint.h"
#include "daemon/rpc/calls_service.h"
#include "daemon/rpc/event_bus.h"
#include "daemon/rpc/peer_access.h"
#include "daemon/rpc/proto_conversion.h"
#include "daemon/rpc/unix_listener.h"
#include "daemon/session/push_registry.h"
#include "daemon/session/server_op_queue.h"
#include "daemon/session/session.h"
#include "daemon/store/sqlite_state_store.h"
#include "glog/logging.h"

namespace callsd::daemon {

// Declared in start order; destroyed in reverse.
struct Daemon::Components {
  std::unique_ptr<SqliteStateStore> store;
  std::unique_ptr<EventLoop> engine;
  std::unique_ptr<LwsHttpClient> http;
  std::unique_ptr<RestBackend> backend;
  std::unique_ptr<LwsCallChannel> channel;
  std::unique_ptr<rpc::EventBus> bus;
  std::unique_ptr<ServerOpQueue> ops;
  std::unique_ptr<PushRegistry> push;
  std::unique_ptr<Session> session;
  std::unique_ptr<CallRegistry> calls;
  std::unique_ptr<PushEndpoint> push_endpoint;
  std::unique_ptr<rpc::UnixListener> listener;
  rpc::PeerRegistry peers;
  std::unique_ptr<rpc::CallsService> service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<rpc::PeerAcceptor> acceptor;
  bool stopped = false;
};

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Shutdown(); }

absl::Status Daemon::Start() {
  c_ = std::make_unique<Components>();
  Components& c = *c_;

  ASSIGN_OR_RETURN(c.store, SqliteStateStore::Open(config_.state_dir));
  c.engine = std::make_unique<EventLoop>("callsd-engine");

  LwsHttpClientOptions http_options;
  http_options.ca_file = config_.ca_file;
  http_options.allow_insecure_http = config_.allow_insecure_http;
  http_options.thread_name = "callsd-http";
  ASSIGN_OR_RETURN(c.http, LwsHttpClient::Create(http_options));
  RestBackend::Options backend_options;
  backend_options.base_url = config_.server_url;
  backend_options.request_timeout = config_.request_timeout;
  ASSIGN_OR_RETURN(c.backend, RestBackend::Create(c.http.get(), c.engine.get(), backend_options));
  LwsCallChannel::Options channel_options;
  channel_options.base_url = config_.server_url;
  channel_options.ca_file = config_.ca_file;
  channel_options.allow_insecure_http = config_.allow_insecure_http;
  channel_options.connect_timeout = config_.request_timeout;
  ASSIGN_OR_RETURN(c.channel, LwsCallChannel::Create(c.engine.get(), channel_options));

  // The builder runs on the engine; the session exists by the first event.
  c.bus = std::make_unique<rpc::EventBus>(c.engine->clock(), [this](callsd::v1::State* state) {
    if (c_->session != nullptr) rpc::FillSessionState(c_->session->snapshot(), state);
    if (c_->push != nullptr) {
      for (const StoredPushToken& t : c_->push->tokens()) rpc::ToProto(t, state->add_push_tokens());
    }
    if (c_->calls != nullptr) {
      const absl::Time now = c_->engine->clock().Now();
      for (const CallRecord& call : c_->calls->Ongoing()) {
        rpc::ToProto(call, now, state->add_calls());
      }
    }
    if (c_->push_endpoint != nullptr) state->set_push_endpoint_url(c_->push_endpoint->url());
    state->set_daemon_version(CALLSD_VERSION);
  });
  Session::Options session_options;
  session_options.token_refresh_lead = config_.token_refresh_lead;
  session_options.retry_initial = config_.retry_initial;
  session_options.retry_max = config_.retry_max;
  ServerOpQueue::Options queue_options;
  queue_options.retry_initial = config_.retry_initial;
  queue_options.retry_max = config_.retry_max;
  queue_options.first_try_deadline = config_.request_timeout + absl::Seconds(1);
  c.ops = std::make_unique<ServerOpQueue>(c.engine.get(), c.store.get(), c.backend.get(),
                                          queue_options);
  PushRegistry::Options push_options;
  push_options.retry_initial = config_.retry_initial;
  push_options.retry_max = config_.retry_max;
  c.push = std::make_unique<PushRegistry>(c.engine.get(), c.store.get(), c.backend.get(),
                                          c.ops.get(), c.bus.get(), push_options);
  c.session = std::make_unique<Session>(c.engine.get(), c.store.get(), c.backend.get(),
                                        c.push.get(), c.bus.get(), session_options);
  c.push->set_session(c.session.get());
  c.session->AddListener(c.push.get());
  CallRegistry::Options call_options;
  call_options.ringing_timeout = config_.ringing_timeout;
  call_options.reconnect_window = config_.reconnect_window;
  call_options.request_timeout = config_.request_timeout;
  c.calls = std::make_unique<CallRegistry>(c.engine.get(), c.store.get(), c.backend.get(),
                                           c.channel.get(), c.session.get(), c.bus.get(),
                                           call_options);
  c.session->AddListener(c.calls.get());

  // State first (tokens, queued work), then the session that acts on it.
  absl::Status started;
  c.engine->RunSync([&] {
    started = c.push->Start();
    if (started.ok()) started = c.ops->Start();
    if (started.ok()) started = c.calls->Start();
    if (started.ok()) started = c.session->Start();
  });
  RETURN_IF_ERROR(started);

  if (!config_.push_endpoint.empty()) {
    EventLoop* engine = c.engine.get();
    CallRegistry* calls = c.calls.get();
    ASSIGN_OR_RETURN(
        c.push_endpoint,
        PushEndpoint::Start(
            config_.push_endpoint,
            [engine, calls](const std::string& payload)
                -> absl::StatusOr<wire::v1::PushEndpointAnswer> {
              absl::StatusOr<CallRegistry::PushResult> result =
                  absl::UnavailableError("callsd is shutting down");
              engine->RunSync([&] {
                calls->DeliverPush(payload, [&](absl::StatusOr<CallRegistry::PushResult> r) {
                  result = std::move(r);
                });
              });
              if (!result.ok()) return result.status();
              wire::v1::PushEndpointAnswer answer;
              answer.set_outcome(CallRegistry::PushOutcomeName(result->outcome));
              if (result->call) answer.set_call_id(result->call->call_id);
              return answer;
            }));
    c.engine->RunSync([&] { c.bus->StateChanged(); });
  }

  // The socket: from systemd when activated, else our own.
  ASSIGN_OR_RETURN(c.listener, rpc::UnixListener::FromSocketActivation());
  if (c.listener == nullptr) {
    ASSIGN_OR_RETURN(c.listener, rpc::UnixListener::Bind(config_.socket_path, config_.socket_gid));
  } else {
    LOG(INFO) << "using the socket passed by systemd: " << c.listener->path();
  }

  rpc::AccessPolicy policy;
  policy.daemon_uid = geteuid();
  policy.socket_gid =
      config_.socket_gid != static_cast<gid_t>(-1) ? config_.socket_gid : getegid();
  policy.control_needs_admin = config_.control_tier == "operators";
  policy.operator_uids = config_.operator_uids;
  policy.operator_gids = config_.operator_gids;

  rpc::CallsService::Deps deps;
  deps.engine = c.engine.get();
  deps.session = c.session.get();
  deps.push = c.push.get();
  deps.calls = c.calls.get();
  deps.bus = c.bus.get();
  deps.peers = &c.peers;
  deps.policy = policy;
  deps.watcher_queue = static_cast<size_t>(config_.watcher_queue);
  c.service = std::make_unique<rpc::CallsService>(std::move(deps));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.RegisterService(c.service.get());
  c.server = builder.BuildAndStart();
  if (c.server == nullptr) return absl::InternalError("gRPC server failed to start");
  c.server->GetHealthCheckService()->SetServingStatus(true);

  c.acceptor = std::make_unique<rpc::PeerAcceptor>(c.listener->fd(), c.server.get(), &c.peers,
                                                   policy);
  c.acceptor->Start();
  LOG(INFO) << "serving on " << socket_path() << " (" << StatusLine() << ")";
  return absl::OkStatus();
}

void Daemon::Shutdown() {
  if (c_ == nullptr || c_->stopped) return;
  Components& c = *c_;
  c.stopped = true;
  LOG(INFO) << "shutting down";
  if (c.acceptor) c.acceptor->Stop();
  c.push_endpoint.reset();
  if (c.engine) {
    c.engine->RunSync([&] {
      if (c.calls) c.calls->Shutdown();
      if (c.session) c.session->Shutdown();
      if (c.push) c.push->Shutdown();
      if (c.ops) c.ops->Shutdown();
      if (c.bus) c.bus->CloseAll(absl::UnavailableError("callsd is shutting down"));
    });
  }
  if (c.server) c.server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  // In-flight requests complete with UNAVAILABLE (posted to the engine,
  // where the shut-down session ignores them).
  c.backend.reset();
  c.channel.reset();
  c.http.reset();
  if (c.engine) c.engine->Stop();
  c.acceptor.reset();
  c.server.reset();
  c.service.reset();
  c.listener.reset();  // removes the socket
  c.calls.reset();
  c.session.reset();
  c.push.reset();
  c.ops.reset();
  c.bus.reset();
  c.engine.reset();
  c.store.reset();
  LOG(INFO) << "stopped";
}

std::string Daemon::socket_path() const {
  if (c_ && c_->listener && !c_->listener->path().empty()) return c_->listener->path();
  return config_.socket_path;
}

std::string Daemon::StatusLine() const {
  if (c_ == nullptr || c_->bus == nullptr) return "starting";
  std::shared_ptr<const callsd::v1::State> state = c_->bus->state();
  switch (state->session_state()) {
    case callsd::v1::SESSION_STATE_NOT_INITIALIZED:
      return "not initialized (run callsctl init APP_ID)";
    case callsd::v1::SESSION_STATE_LOGGED_OUT:
      return absl::StrCat("app ", state->app_id(), ", logged out");
    case callsd::v1::SESSION_STATE_AUTHENTICATING:
      return absl::StrCat("authenticating ", state->user().user_id());
    case callsd::v1::SESSION_STATE_AUTHENTICATED:
      return absl::StrCat("logged in as ", state->user().user_id());
    case callsd::v1::SESSION_STATE_TOKEN_REQUIRED:
      return absl::StrCat("token required for ", state->user().user_id());
    default:
      return "unknown";
  }
}

}  // namespace callsd::daemon
