#include "daemon/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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
  // Writes events to the watchers (EventBus), off the engine.
  std::unique_ptr<EventLoop> fanout;
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
  // Engine sequence only.
  std::string last_status;
  TimerId watchdog_timer = 0;
  absl::Duration watchdog_every;
};

namespace {

std::string StatusLineFor(const callsd::v1::State& state) {
  std::string line;
  switch (state.session_state()) {
    case callsd::v1::SESSION_STATE_NOT_INITIALIZED:
      return "not initialized (run callsctl init APP_ID)";
    case callsd::v1::SESSION_STATE_LOGGED_OUT:
      line = absl::StrCat("app ", state.app_id(), ", logged out");
      break;
    case callsd::v1::SESSION_STATE_AUTHENTICATING:
      line = absl::StrCat("authenticating ", state.user().user_id());
      break;
    case callsd::v1::SESSION_STATE_AUTHENTICATED:
      line = absl::StrCat("logged in as ", state.user().user_id());
      break;
    case callsd::v1::SESSION_STATE_TOKEN_REQUIRED:
      line = absl::StrCat("token required for ", state.user().user_id());
      break;
    default:
      return "unknown";
  }
  if (state.calls_size() > 0) absl::StrAppend(&line, ", ", state.calls_size(), " call(s)");
  if (state.rooms_size() > 0) absl::StrAppend(&line, ", ", state.rooms_size(), " room(s)");
  return line;
}

// A token file, or "credential:NAME" from systemd's $CREDENTIALS_DIRECTORY.
absl::StatusOr<std::string> ReadProvisionedToken(const std::string& spec) {
  std::string path = spec;
  if (spec.rfind("credential:", 0) == 0) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (dir == nullptr || *dir == '\0') {
      return absl::FailedPreconditionError(absl::StrCat(
          "provision.access_token_file: ", spec,
          " needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=), which is not set"));
    }
    path = absl::StrCat(dir, "/", spec.substr(11));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("provision.access_token_file: cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("provision.access_token_file: ", path, " is empty"));
  }
  return token;
}

// Every client and watcher is a connection: raise the soft limit on open
// files (1,024 by default) towards the hard one so that a thousand watchers
// fit. Capped, because libwebsockets sizes its tables by the limit. Under
// the systemd units setrlimit is filtered (@resources); LimitNOFILE= there
// sets the limit instead.
void RaiseFdLimit() {
  constexpr rlim_t kWanted = 65536;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= kWanted) return;
  const rlim_t soft = std::min(limit.rlim_max, kWanted);
  if (soft <= limit.rlim_cur) return;
  limit.rlim_cur = soft;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    LOG(WARNING) << "cannot raise the open-file limit to " << soft << ": " << strerror(errno);
  }
}

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Shutdown(); }

absl::Status Daemon::Start() {
  c_ = std::make_unique<Components>();
  Components& c = *c_;
  RaiseFdLimit();

  ASSIGN_OR_RETURN(c.store, SqliteStateStore::Open(config_.state_dir));
  c.engine = std::make_unique<EventLoop>("callsd-engine");
  c.fanout = std::make_unique<EventLoop>("callsd-fanout");

  LwsHttpClientOptions http_options;
  http_options.ca_file = config_.ca_file;
  http_options.allow_insecure_http = config_.allow_insecure_http;
  http_options.verify_certificates = config_.tls_verify;
  if (!config_.tls_verify) {
    LOG(WARNING) << "server.tls_verify = false: the calls server's TLS certificate is NOT "
                    "verified; anyone on the path can impersonate it (development only)";
  }
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
  channel_options.verify_certificates = config_.tls_verify;
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
      for (const CallRecord* call : c_->calls->OngoingRefs()) {
        rpc::ToProto(*call, now, state->add_calls());
      }
      for (const RoomRecord* room : c_->calls->rooms()->Refs()) {
        rpc::ToProto(*room, state->add_rooms());
      }
    }
    if (c_->push_endpoint != nullptr) state->set_push_endpoint_url(c_->push_endpoint->url());
    state->set_daemon_version(CALLSD_VERSION);
  }, c.fanout.get());
  // glibc keeps what the watchers' streams and connections freed in its
  // per-thread arenas; a daemon that served a thousand watchers would stay
  // that big. Give it back once the last watcher is gone (a second later,
  // when their connections are closed too).
  c.bus->SetIdleHook([fanout = c.fanout.get(), timer = TimerId{0}]() mutable {
    fanout->Cancel(timer);
    timer = fanout->RunAfter(absl::Seconds(1), [] { malloc_trim(0); });
  });
  // systemd sees the session in `systemctl status` (STATUS=).
  c.bus->SetObserver([this](const callsd::v1::State& state) {
    std::string line = StatusLineFor(state);
    if (line == c_->last_status) return;
    c_->last_status = std::move(line);
    sd_notifyf(0, "STATUS=%s", c_->last_status.c_str());
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
  RETURN_IF_ERROR(Provision());
  StartWatchdog();

  if (!config_.push_endpoint.empty()) {
    EventLoop* engine = c.engine.get();
    CallRegistry* calls = c.calls.get();
    ASSIGN_OR_RETURN(
        std::unique_ptr<PushEndpoint> push_endpoint,
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
    // Handed over on the engine, where the state builder reads it.
    c.engine->RunSync([&] {
      c.push_endpoint = std::move(push_endpoint);
      c.bus->StateChanged();
    });
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
  policy.push_distributor_uids = config_.push_distributor_uids;
  policy.push_distributor_gids = config_.push_distributor_gids;

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

absl::Status Daemon::Provision() {
  Components& c = *c_;
  if (config_.provision_app_id.empty()) return absl::OkStatus();
  std::string token;
  if (!config_.provision_user.empty()) {
    ASSIGN_OR_RETURN(token, ReadProvisionedToken(config_.provision_token_file));
  }
  c.engine->RunSync([&] {
    Session* session = c.session.get();
    if (session->snapshot().app_id != config_.provision_app_id) {
      LOG(INFO) << "provisioning APP_ID " << config_.provision_app_id;
      session->Init(config_.provision_app_id, [](absl::StatusOr<Session::InitResult> r) {
        if (!r.ok()) LOG(ERROR) << "provisioned Init failed: " << r.status();
      });
    }
    if (config_.provision_user.empty() ||
        session->snapshot().user_id == config_.provision_user) {
      return;
    }
    if (!session->snapshot().user_id.empty()) {
      LOG(INFO) << "logging out " << session->snapshot().user_id << " for the provisioned user";
      session->Deauthenticate(false, [](absl::StatusOr<Session::DeauthResult>) {});
    }
    LOG(INFO) << "logging in the provisioned user " << config_.provision_user;
    session->Authenticate(config_.provision_user, TokenKind::kAccessToken, token,
                          [user = config_.provision_user](absl::StatusOr<SessionSnapshot> r) {
                            if (!r.ok()) {
                              LOG(ERROR) << "provisioned login of " << user
                                         << " failed: " << r.status().message();
                            }
                          });
  });
  return absl::OkStatus();
}

void Daemon::StartWatchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) <= 0 || usec == 0) return;
  const absl::Duration every = absl::Microseconds(usec) / 2;
  LOG(INFO) << "systemd watchdog: pinging every " << every;
  // From the engine sequence: a stuck engine stops the pings.
  c_->watchdog_every = every;
  c_->engine->Post([this] { PingWatchdog(); });
}

void Daemon::PingWatchdog() {
  sd_notify(0, "WATCHDOG=1");
  c_->watchdog_timer = c_->engine->RunAfter(c_->watchdog_every, [this] { PingWatchdog(); });
}

void Daemon::Shutdown() {
  if (c_ == nullptr || c_->stopped) return;
  Components& c = *c_;
  c.stopped = true;
  LOG(INFO) << "shutting down";
  if (c.acceptor) c.acceptor->Stop();
  // The state builder reads push_endpoint on the engine (a session event
  // may rebuild the state right now): take it away there, stop it here
  // (its handler waits for the engine).
  std::unique_ptr<PushEndpoint> push_endpoint;
  auto take_push_endpoint = [&] { push_endpoint = std::move(c.push_endpoint); };
  if (c.engine == nullptr || !c.engine->RunSync(take_push_endpoint)) take_push_endpoint();
  push_endpoint.reset();
  if (c.engine) {
    c.engine->RunSync([&] {
      c.engine->Cancel(c.watchdog_timer);
      c.bus->SetObserver(nullptr);
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
  // Its destructor closes the channel's engine side: on the engine, which
  // still runs tasks the channel posted.
  if (c.engine == nullptr || !c.engine->RunSync([&] { c.channel.reset(); })) c.channel.reset();
  c.http.reset();
  if (c.engine) c.engine->Stop();
  if (c.fanout) c.fanout->Stop();  // after the engine: nothing posts to it any more
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
  c.fanout.reset();
  c.store.reset();
  LOG(INFO) << "stopped";
}

std::string Daemon::socket_path() const {
  if (c_ && c_->listener && !c_->listener->path().empty()) return c_->listener->path();
  return config_.socket_path;
}

std::string Daemon::StatusLine() const {
  if (c_ == nullptr || c_->bus == nullptr) return "starting";
  return StatusLineFor(*c_->bus->state());
}

}  // namespace callsd::daemon
