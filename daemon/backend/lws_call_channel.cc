#include "daemon/backend/lws_call_channel.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/calls_error.h"
#include "common/fault_point.h"
#include "common/http/http_util.h"
#include "common/http/lws_log.h"
#include "common/wire_json.h"
#include "glog/logging.h"

namespace callsd::daemon {
namespace {

// lws's own timeouts are whole seconds and per context: keep them out of the
// way, so that the channel's own lws_sul timers (ms precision) decide.
constexpr unsigned kLwsBackstopSecs = 3600;
// Request line, lws's handshake headers and ours (a session key is short).
constexpr unsigned kServBufBytes = 16 * 1024;
// How much lws reads per receive callback (larger messages come in pieces).
constexpr size_t kRxBufferBytes = 16 * 1024;
// After Close(): how long flushing the queue and the close handshake may take
// before the connection is simply dropped.
constexpr absl::Duration kCloseTimeout = absl::Seconds(5);
// The destructor waits this long for closes in progress.
constexpr absl::Duration kShutdownDrain = absl::Seconds(1);

void* Tag(uint64_t generation) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(generation));
}

uint64_t TagOf(lws* wsi) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(lws_get_opaque_user_data(wsi)));
}

bool HasControlChar(const std::string& value) {
  return value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos;
}

lws_usec_t ToLwsUsec(absl::Duration d) {
  return std::max<lws_usec_t>(1, absl::ToInt64Microseconds(d));
}

std::string Ms(absl::Duration d) {
  return absl::FormatDuration(absl::Trunc(d, absl::Microseconds(100)));
}

// Why a TCP connection to host:port fails, found by trying once more
// (non-blocking, at most kProbeTimeoutMs; the lookup blocks, as lws's does).
constexpr int kProbeTimeoutMs = 300;

std::string ProbeTcpFailure(const std::string& host, int port) {
  const std::string where = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), absl::StrCat(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return absl::StrCat("connection to ", where, " failed (and ", host, " no longer resolves)");
  }
  int error = 0;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    if (connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        error = ETIMEDOUT;
        if (poll(&p, 1, kProbeTimeoutMs) == 1) {
          socklen_t len = sizeof(error);
          if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
        }
      }
    }
    close(fd);
  }
  freeaddrinfo(found);
  switch (error) {
    case ECONNREFUSED:
      return absl::StrCat("connection to ", where, " refused");
    case ENETUNREACH:
    case EHOSTUNREACH:
      return absl::StrCat(where, " is unreachable (", strerror(error), ")");
    case ETIMEDOUT:
      return absl::StrCat("connection to ", where, " failed (no answer)");
    case 0:
      return absl::StrCat("connection to ", where, " failed (it works again now)");
    default:
      return absl::StrCat("connection to ", where, " failed (", strerror(error), ")");
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<LwsCallChannel>> LwsCallChannel::Create(Scheduler* engine,
                                                                        Options options) {
  if (engine == nullptr) return absl::InvalidArgumentError("no engine given");
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.ping_interval <= absl::ZeroDuration() || options.max_message_bytes == 0) {
    return absl::InvalidArgumentError(
        "connect_timeout, ping_interval and max_message_bytes must be positive");
  }
  if (absl::StrContains(options.base_url, '?') || absl::StrContains(options.base_url, '#')) {
    return absl::InvalidArgumentError("the calls server URL must not have a query or fragment");
  }
  absl::StatusOr<Url> url = ParseUrl(options.base_url);
  if (!url.ok()) return url.status();
  if (!url->tls && !options.allow_insecure_http && !IsLoopbackHost(url->host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plain ws to ", url->host,
                     " is refused: use https, or allow insecure http explicitly"));
  }
  url->scheme = url->tls ? "wss" : "ws";
  absl::string_view prefix = url->path;
  while (absl::ConsumeSuffix(&prefix, "/")) {
  }
  url->path = absl::StrCat(prefix, "/v1/ws");
  if (!options.ca_file.empty() && access(options.ca_file.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ca_file ", options.ca_file, " cannot be read: ", strerror(errno)));
  }
  RouteLwsLogsToGlog();
  auto channel = absl::WrapUnique(new LwsCallChannel(engine, std::move(options), *std::move(url)));
  if (absl::Status status = channel->Init(); !status.ok()) return status;
  channel->thread_ = std::thread([c = channel.get()] { c->Run(); });
  pthread_setname_np(channel->thread_.native_handle(),
                     channel->options_.thread_name.substr(0, 15).c_str());
  return channel;
}

LwsCallChannel::LwsCallChannel(Scheduler* engine, Options options, Url url)
    : engine_(engine),
      options_(std::move(options)),
      url_(std::move(url)),
      ws_url_(absl::StrCat(url_.scheme, "://", HostHeader(url_), url_.path)),
      host_header_(HostHeader(url_)) {
  protocols_[0].name = "callsd-ws-client";
  protocols_[0].callback = &LwsCallChannel::LwsCallback;
  protocols_[0].rx_buffer_size = kRxBufferBytes;
}

absl::Status LwsCallChannel::Init() {
  if (!options_.verify_certificates) {
    LOG(WARNING) << "WebSocket client created with TLS certificate verification OFF";
  }
  LwsClientContextOptions context_options;
  context_options.protocols = protocols_;
  context_options.user = this;
  context_options.ca_file = options_.ca_file;
  context_options.backstop_secs = kLwsBackstopSecs;
  context_options.serv_buf_bytes = kServBufBytes;
  context_options.what = "WebSocket client";
  return CreateLwsClientContext(context_options, &ssl_ctx_, &context_);
}

LwsCallChannel::~LwsCallChannel() {
  if (side_->state != EngineSide::State::kIdle) Close();
  // Tasks already posted for an older connection find a newer generation.
  ++side_->generation;
  side_->listener = nullptr;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!closed_ && context_ != nullptr) lws_cancel_service(context_.get());
  }
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------
// Engine sequence.

void LwsCallChannel::Open(const SessionCredentials& creds, Listener* listener) {
  EngineSide& side = *side_;
  if (side.state != EngineSide::State::kIdle) return;
  const uint64_t generation = ++side.generation;
  side.state = EngineSide::State::kOpening;
  side.listener = listener;
  if (HasControlChar(creds.app_id) || HasControlChar(creds.session_key)) {
    PostClosed(generation, absl::InvalidArgumentError(
                               "App-Id or Session-Key has a CR, LF or NUL: not connecting"));
    return;
  }
  LOG(INFO) << "opening the WebSocket to " << ws_url_;
  Command command;
  command.kind = Command::Kind::kOpen;
  command.generation = generation;
  command.creds = creds;
  Enqueue(std::move(command));
}

void LwsCallChannel::Send(const wire::v1::WsMessage& message) {
  const EngineSide& side = *side_;
  if (side.state == EngineSide::State::kIdle) {
    VLOG(1) << "WebSocket closed: dropping a \"" << message.type() << "\" message";
    return;
  }
  Command command;
  command.kind = Command::Kind::kSend;
  command.generation = side.generation;
  command.frame.assign(LWS_PRE, '\0');
  command.frame += ToJson(message);
  FaultPoint("ws.send");
  Enqueue(std::move(command));
}

void LwsCallChannel::Close() {
  EngineSide& side = *side_;
  if (side.state == EngineSide::State::kIdle) return;
  Command command;
  command.kind = Command::Kind::kClose;
  command.generation = side.generation;
  ++side.generation;
  side.state = EngineSide::State::kIdle;
  side.listener = nullptr;
  LOG(INFO) << "closing the WebSocket to " << ws_url_;
  Enqueue(std::move(command));
}

bool LwsCallChannel::active() const { return side_->state != EngineSide::State::kIdle; }

void LwsCallChannel::Enqueue(Command command) {
  absl::MutexLock lock(&mu_);
  if (closed_) return;  // a caller bug (after the destructor started); nothing to do
  queue_.push_back(std::move(command));
  lws_cancel_service(context_.get());
}

void LwsCallChannel::PostOpen(uint64_t generation) {
  engine_->Post([side = side_, generation] {
    if (side->generation != generation || side->state != EngineSide::State::kOpening) return;
    side->state = EngineSide::State::kOpen;
    FaultPoint("ws.open");
    side->listener->OnChannelOpen();
  });
}

void LwsCallChannel::PostMessage(uint64_t generation, wire::v1::WsMessage message) {
  engine_->Post([side = side_, generation, message = std::move(message)] {
    if (side->generation != generation || side->state != EngineSide::State::kOpen) return;
    FaultPoint("ws.receive");
    side->listener->OnChannelMessage(message);
  });
}

void LwsCallChannel::PostClosed(uint64_t generation, absl::Status why) {
  engine_->Post([side = side_, generation, why = std::move(why)] {
    if (side->generation != generation || side->state == EngineSide::State::kIdle) return;
    side->state = EngineSide::State::kIdle;
    Listener* listener = side->listener;
    side->listener = nullptr;
    listener->OnChannelClosed(why);
  });
}

// ---------------------------------------------------------------------------
// Service thread.

void LwsCallChannel::Run() {
  for (;;) {
    std::deque<Command> batch;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(queue_);
      stopping = stopping_;
    }
    for (Command& command : batch) Handle(std::move(command));
    if (stopping) {
      if (!draining_) {
        draining_ = true;
        drain_deadline_ = absl::Now() + kShutdownDrain;
        // Only to wake lws_service() at the deadline.
        lws_sul_schedule(context_.get(), 0, &drain_sul_, [](lws_sorted_usec_list_t*) {},
                         ToLwsUsec(kShutdownDrain));
      }
      if (conns_.empty() || absl::Now() >= drain_deadline_) break;
    }
    lws_service(context_.get(), 0);
  }
  lws_sul_cancel(&drain_sul_);
  if (!conns_.empty()) {
    LOG(WARNING) << "WebSocket to " << ws_url_
                 << " still closing at shutdown: dropping the connection";
  }
  while (!conns_.empty()) Forget(*conns_.begin()->second);
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  context_.reset();
}

void LwsCallChannel::Handle(Command command) {
  switch (command.kind) {
    case Command::Kind::kOpen: {
      auto owned = std::make_unique<Conn>();
      Conn& c = *owned;
      c.generation = command.generation;
      c.creds = std::move(command.creds);
      c.started = absl::Now();
      c.timer.channel = this;
      c.timer.generation = c.generation;
      conns_.emplace(c.generation, std::move(owned));
      ArmTimer(c, options_.connect_timeout);
      Connect(c);
      return;
    }
    case Command::Kind::kSend: {
      Conn* c = Find(command.generation);
      if (c == nullptr || c->closing) return;  // gone: OnChannelClosed tells
      c->outbox.push_back(std::move(command.frame));
      if (c->stage == Stage::kOpen && c->wsi != nullptr) lws_callback_on_writable(c->wsi);
      return;
    }
    case Command::Kind::kClose: {
      Conn* c = Find(command.generation);
      if (c == nullptr) return;
      c->closing = true;
      c->finished = true;
      if (c->stage == Stage::kOpen && c->wsi != nullptr) {
        // Flush, then a close frame (OnWritable); bounded by the timer.
        c->ping_due = false;
        ArmTimer(*c, kCloseTimeout);
        lws_callback_on_writable(c->wsi);
        return;
      }
      VLOG(1) << "WebSocket to " << Where() << " abandoned while opening";
      Fail(*c, absl::OkStatus(), /*kill=*/true);
      return;
    }
  }
}

void LwsCallChannel::Connect(Conn& c) {
  const uint64_t generation = c.generation;
  lws_client_connect_info info;
  memset(&info, 0, sizeof(info));
  info.context = context_.get();
  info.address = url_.host.c_str();
  info.port = url_.port;
  info.path = url_.path.c_str();
  info.host = host_header_.c_str();
  // No subprotocol is offered (no Sec-WebSocket-Protocol header): the
  // connection binds to our protocol by its local name.
  info.protocol = nullptr;
  info.local_protocol_name = protocols_[0].name;
  info.ietf_version_or_minus_one = -1;
  // The lws client cannot do WebSocket over h2.
  info.alpn = "http/1.1";
  info.opaque_user_data = Tag(generation);
  if (url_.tls) {
    info.ssl_connection = TlsConnectionFlags(options_.verify_certificates, host_header_);
  }
  connecting_generation_ = generation;
  lws* wsi = lws_client_connect_via_info(&info);
  connecting_generation_ = 0;
  // lws may already have failed the connection through a callback.
  Conn* still = Find(generation);
  if (still == nullptr) return;
  if (wsi == nullptr) {
    // lws 4.1 fails a DNS lookup this way, without a callback.
    still->wsi = nullptr;
    const absl::Status why = ConnectStartFailure(url_);
    Fail(*still, absl::UnavailableError(absl::StrCat("cannot open the WebSocket: ", why.message())),
         /*kill=*/false);
    return;
  }
  still->wsi = wsi;
}

LwsCallChannel::Conn* LwsCallChannel::Find(uint64_t generation) {
  if (generation == 0) return nullptr;
  auto it = conns_.find(generation);
  return it == conns_.end() ? nullptr : it->second.get();
}

void LwsCallChannel::Fail(Conn& c, absl::Status why, bool kill) {
  if (!c.finished) {
    c.finished = true;
    LOG(INFO) << "WebSocket to " << ws_url_ << " closed: " << why;
    PostClosed(c.generation, std::move(why));
  }
  lws* wsi = c.wsi;
  Forget(c);  // `c` is gone
  // Not inside a callback of this wsi (a timer, a command): close it now. Its
  // remaining callbacks come untagged and are ignored.
  if (kill && wsi != nullptr) lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

void LwsCallChannel::Forget(Conn& c) {
  lws_sul_cancel(&c.timer.sul);
  if (c.wsi != nullptr) lws_set_opaque_user_data(c.wsi, nullptr);
  conns_.erase(c.generation);
}

void LwsCallChannel::ArmTimer(Conn& c, absl::Duration after) {
  lws_sul_cancel(&c.timer.sul);
  lws_sul_schedule(context_.get(), 0, &c.timer.sul, &LwsCallChannel::TimerCallback,
                   ToLwsUsec(after));
}

void LwsCallChannel::TimerCallback(lws_sorted_usec_list_t* sul) {
  static_assert(std::is_standard_layout_v<TimerSlot>);
  auto* slot = reinterpret_cast<TimerSlot*>(sul);
  LwsCallChannel* self = slot->channel;
  Conn* c = self->Find(slot->generation);
  if (c != nullptr) self->OnTimer(*c);
}

void LwsCallChannel::OnTimer(Conn& c) {
  if (c.closing) {
    LOG(WARNING) << "WebSocket to " << ws_url_ << " did not close within "
                 << absl::FormatDuration(kCloseTimeout) << ": dropping the connection";
    Fail(c, absl::OkStatus(), /*kill=*/true);
    return;
  }
  if (c.stage != Stage::kOpen) {
    Fail(c, StageTimeout(c), /*kill=*/true);
    return;
  }
  const absl::Time now = absl::Now();
  const absl::Duration silent = now - c.last_rx;
  const absl::Duration interval = options_.ping_interval;
  if (silent >= 2 * interval) {
    Fail(c, absl::UnavailableError(absl::StrCat("no answer from the server at ", Where(),
                                                " for ", Ms(silent))),
         /*kill=*/true);
    return;
  }
  if (silent >= interval) {
    if (!c.ping_sent) {
      c.ping_due = true;
      c.ping_sent = true;
      if (c.wsi != nullptr) lws_callback_on_writable(c.wsi);
    }
    ArmTimer(c, c.last_rx + 2 * interval - now);
  } else {
    ArmTimer(c, c.last_rx + interval - now);
  }
}

absl::Status LwsCallChannel::StageTimeout(const Conn& c) const {
  const std::string within = absl::FormatDuration(options_.connect_timeout);
  switch (c.stage) {
    case Stage::kConnecting:
      return absl::UnavailableError(absl::StrCat("cannot open the WebSocket: connecting to ",
                                                 Where(), url_.tls ? " (TCP and TLS)" : " (TCP)",
                                                 " timed out after ", within));
    case Stage::kUpgrading:
      return absl::UnavailableError(absl::StrCat("cannot open the WebSocket: ", Where(),
                                                 " did not answer the upgrade request within ",
                                                 within));
    case Stage::kAwaitingHello:
    case Stage::kOpen:
      break;
  }
  return absl::UnavailableError(absl::StrCat("cannot open the WebSocket: ", Where(),
                                             " sent no hello within ", within));
}

std::string LwsCallChannel::Where() const { return absl::StrCat(url_.host, ":", url_.port); }

void LwsCallChannel::Opened(Conn& c) {
  c.stage = Stage::kOpen;
  c.last_rx = absl::Now();
  LOG(INFO) << "WebSocket to " << ws_url_ << " open after " << Ms(c.last_rx - c.started);
  PostOpen(c.generation);
  ArmTimer(c, options_.ping_interval);
  if (!c.outbox.empty() && c.wsi != nullptr) lws_callback_on_writable(c.wsi);
}

int LwsCallChannel::LwsCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                                size_t len) {
  if (wsi == nullptr) return 0;
  auto* self = static_cast<LwsCallChannel*>(lws_context_user(lws_get_context(wsi)));
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return self->OnEvent(wsi, reason, user, in, len);
}

int LwsCallChannel::OnEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                            size_t len) {
  uint64_t generation = TagOf(wsi);
  // lws tags the wsi only part way through lws_client_connect_via_info(): an
  // error inside that call may come untagged.
  if (generation == 0 && reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR) {
    generation = connecting_generation_;
  }
  Conn* c = Find(generation);
  if (c != nullptr) {
    if (c->wsi == nullptr && reason != LWS_CALLBACK_WSI_DESTROY) c->wsi = wsi;
    return OnConnEvent(*c, wsi, reason, user, in, len);
  }
  switch (reason) {
    // A connection nobody wants any more (closed, abandoned, failed).
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
    case LWS_CALLBACK_CLIENT_RECEIVE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return -1;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

int LwsCallChannel::OnConnEvent(Conn& c, lws* wsi, lws_callback_reasons reason, void* user,
                                void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      const char* text = static_cast<const char*>(in);
      const size_t n = text == nullptr ? 0 : (len > 0 ? strnlen(text, len) : strlen(text));
      const absl::string_view reason_text(text == nullptr ? "" : text, n);
      const int http_status = static_cast<int>(lws_http_client_http_response(wsi));
      absl::Status why;
      if (c.stage == Stage::kUpgrading && http_status > 0 && http_status != 101) {
        why = absl::UnavailableError(absl::StrCat(
            "cannot open the WebSocket: ", Where(), " refused the upgrade with HTTP ", http_status,
            " (", reason_text, ")"));
      } else if (c.stage == Stage::kConnecting && c.cert_error.empty() &&
                 absl::StrContains(reason_text, "Unable to connect")) {
        // lws 4.1 says only "Unable to connect" (the socket and its errno
        // are gone by now): ask the kernel once more what the matter is.
        why = absl::UnavailableError(
            absl::StrCat("cannot open the WebSocket: ", ProbeTcpFailure(url_.host, url_.port)));
      } else {
        const absl::Status failure = ConnectionFailure(url_, reason_text, c.cert_error);
        why = absl::UnavailableError(
            absl::StrCat("cannot open the WebSocket: ", failure.message()));
      }
      c.wsi = nullptr;  // lws frees it after this callback
      lws_set_opaque_user_data(wsi, nullptr);
      Fail(c, std::move(why), /*kill=*/false);
      return 0;
    }
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
      // user: X509_STORE_CTX*, len: OpenSSL's preverify_ok. lws's own error
      // text does not say why the certificate was rejected.
      if (len == 0 && c.cert_error.empty()) {
        const int error = X509_STORE_CTX_get_error(static_cast<X509_STORE_CTX*>(user));
        c.cert_error = X509_verify_cert_error_string(error);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      c.stage = Stage::kUpgrading;
      return AppendHeaders(c, wsi, in, len);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      c.stage = Stage::kAwaitingHello;
      c.last_rx = absl::Now();
      VLOG(1) << "WebSocket to " << Where() << " upgraded, waiting for hello";
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return OnReceive(c, wsi, in, len);
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
      c.last_rx = absl::Now();
      c.ping_sent = false;
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return OnWritable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (in != nullptr && len >= 2) {
        const auto* bytes = static_cast<const unsigned char*>(in);
        c.peer_close_code = (bytes[0] << 8) | bytes[1];
      }
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      OnConnectionClosed(c);
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      c.wsi = nullptr;
      OnConnectionClosed(c);
      return 0;
    default:
      return 0;
  }
}

int LwsCallChannel::AppendHeaders(Conn& c, lws* wsi, void* in, size_t len) {
  auto** pos = static_cast<unsigned char**>(in);
  unsigned char* const end = *pos + len;
  auto add = [&](const char* name_colon, const std::string& value) {
    return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name_colon),
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), pos, end) == 0;
  };
  static const std::string kUserAgent = "callsd/0.1";
  const bool ok = add("User-Agent:", kUserAgent) && add("App-Id:", c.creds.app_id) &&
                  add("Session-Key:", c.creds.session_key);
  // The headers are out of our hands now: forget the key.
  c.creds = {};
  if (!ok) {
    lws_set_opaque_user_data(wsi, nullptr);
    Fail(c, absl::InvalidArgumentError("App-Id and Session-Key do not fit in the lws buffer"),
         /*kill=*/false);
    return -1;
  }
  return 0;
}

int LwsCallChannel::OnReceive(Conn& c, lws* wsi, const void* in, size_t len) {
  c.last_rx = absl::Now();
  c.ping_sent = false;
  if (!c.in_message) {
    c.in_message = true;
    c.rx.clear();
    c.rx_size = 0;
    c.rx_binary = lws_frame_is_binary(wsi) != 0;
    c.rx_oversize = false;
  }
  c.rx_size += len;
  if (!c.rx_binary && !c.rx_oversize) {
    if (c.rx_size > options_.max_message_bytes) {
      c.rx_oversize = true;
      std::string().swap(c.rx);
    } else {
      c.rx.append(static_cast<const char*>(in), len);
    }
  }
  if (!lws_is_final_fragment(wsi)) return 0;
  c.in_message = false;
  return OnMessage(c, wsi);
}

int LwsCallChannel::OnMessage(Conn& c, lws* wsi) {
  if (c.rx_binary) {
    LOG(WARNING) << "WebSocket to " << Where() << ": dropping a binary message of " << c.rx_size
                 << " bytes";
    return 0;
  }
  if (c.rx_oversize) {
    LOG(WARNING) << "WebSocket to " << Where() << ": dropping a message of " << c.rx_size
                 << " bytes, over the limit of " << options_.max_message_bytes;
    return 0;
  }
  wire::v1::WsMessage message;
  const std::string text = std::move(c.rx);
  c.rx.clear();
  if (!FromJson(text, &message).ok()) {
    // The parser's error text may quote the content: leave it out.
    LOG(WARNING) << "WebSocket to " << Where() << ": dropping a malformed message of "
                 << text.size() << " bytes (not a WsMessage in JSON)";
    return 0;
  }
  if (c.closing) return 0;
  if (c.stage == Stage::kOpen) {
    PostMessage(c.generation, std::move(message));
    return 0;
  }
  // The server's first message.
  if (message.type() == "hello") {
    Opened(c);
    return 0;
  }
  absl::Status why;
  if (message.type() == "error" && message.code() != 0) {
    why = CallsError(StatusCodeForServerCode(message.code()), message.code(),
                     message.message().empty()
                         ? absl::StrCat("the server refused the WebSocket session (code ",
                                        message.code(), ")")
                         : message.message());
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
  } else {
    why = absl::UnavailableError(absl::StrCat(
        "cannot open the WebSocket: ", Where(), " sent \"",
        absl::CHexEscape(absl::string_view(message.type()).substr(0, 32)),
        "\" instead of hello"));
    lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, nullptr, 0);
  }
  Fail(c, std::move(why), /*kill=*/false);
  return -1;
}

int LwsCallChannel::OnWritable(Conn& c, lws* wsi) {
  if (c.stage != Stage::kOpen) return 0;  // sends wait for the hello
  if (c.ping_due) {
    c.ping_due = false;
    unsigned char ping[LWS_PRE + 1] = {};
    if (lws_write(wsi, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0) {
      Fail(c, absl::UnavailableError(absl::StrCat("WebSocket to ", Where(),
                                                  ": writing a ping failed")),
           /*kill=*/false);
      return -1;
    }
    if (!c.outbox.empty() || c.closing) lws_callback_on_writable(wsi);
    return 0;
  }
  if (!c.outbox.empty()) {
    // lws masks the payload in place and writes the frame header into the
    // LWS_PRE bytes before it; what the socket does not take, it keeps.
    std::string frame = std::move(c.outbox.front());
    c.outbox.pop_front();
    const size_t n = frame.size() - LWS_PRE;
    const int written =
        lws_write(wsi, reinterpret_cast<unsigned char*>(frame.data()) + LWS_PRE, n, LWS_WRITE_TEXT);
    if (written < static_cast<int>(n)) {
      Fail(c, absl::UnavailableError(absl::StrCat("WebSocket to ", Where(),
                                                  ": writing a message failed")),
           /*kill=*/false);
      return -1;
    }
    if (!c.outbox.empty() || c.closing) lws_callback_on_writable(wsi);
    return 0;
  }
  if (c.closing) {
    // lws sends the close frame and waits (bounded) for the server's.
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
    return -1;
  }
  return 0;
}

void LwsCallChannel::OnConnectionClosed(Conn& c) {
  if (c.closing) {
    VLOG(1) << "WebSocket to " << Where() << " closed after Close()";
    Forget(c);
    return;
  }
  absl::Status why;
  if (c.stage == Stage::kOpen) {
    why = absl::UnavailableError(absl::StrCat(
        "the server at ", Where(), " closed the WebSocket",
        c.peer_close_code != 0 ? absl::StrCat(" (close code ", c.peer_close_code, ")")
                               : std::string(" (connection lost, no close frame)")));
  } else {
    why = absl::UnavailableError(absl::StrCat("cannot open the WebSocket: ", Where(),
                                              " closed the connection before its hello"));
  }
  Fail(c, std::move(why), /*kill=*/false);
}

}  // namespace callsd::daemon
