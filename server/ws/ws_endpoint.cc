#include "server/ws/ws_endpoint.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/wire_json.h"
#include "glog/logging.h"

namespace callsd::server {
namespace {

constexpr char kProtocolName[] = "calls-ws";

std::string CopyHeader(lws* wsi, lws_token_indexes token) {
  const int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return std::string();
  std::string value(static_cast<size_t>(len) + 1, '\0');
  const int n = lws_hdr_copy(wsi, value.data(), len + 1, token);
  value.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return value;
}

// A custom header ("app-id"); empty when absent.
std::string CopyCustomHeader(lws* wsi, absl::string_view lower_case_name) {
  const std::string key = absl::StrCat(lower_case_name, ":");
  const int key_len = static_cast<int>(key.size());
  const int len = lws_hdr_custom_length(wsi, key.c_str(), key_len);
  if (len <= 0) return std::string();
  std::string value(static_cast<size_t>(len) + 1, '\0');
  const int n = lws_hdr_custom_copy(wsi, value.data(), len + 1, key.c_str(), key_len);
  value.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return value;
}

}  // namespace

WsEndpoint::WsEndpoint(SessionCheck check, Options options)
    : check_(std::move(check)), options_(std::move(options)) {
  default_option_.name = "default";
  default_option_.value = "";
  vhost_options_.options = &default_option_;
  vhost_options_.name = kProtocolName;
  vhost_options_.value = "";
}

WsEndpoint::~WsEndpoint() = default;

lws_protocols WsEndpoint::protocol() {
  lws_protocols p{};
  p.name = kProtocolName;
  p.callback = &WsEndpoint::Callback;
  p.per_session_data_size = sizeof(PerSession);
  p.rx_buffer_size = 0;  // lws' default; messages are assembled here
  p.user = this;
  return p;
}

int WsEndpoint::Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  if (protocol == nullptr || protocol->user == nullptr) return 0;
  return static_cast<WsEndpoint*>(protocol->user)
      ->OnEvent(wsi, reason, static_cast<PerSession*>(user), in, len);
}

int WsEndpoint::OnEvent(lws* wsi, lws_callback_reasons reason, PerSession* pss, void* in,
                        size_t len) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      const std::string path = CopyHeader(wsi, WSI_TOKEN_GET_URI);
      if (path != options_.path) {
        VLOG(1) << "WebSocket upgrade refused: not " << options_.path;
        return 1;
      }
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
      return OnEstablished(wsi, pss);

    case LWS_CALLBACK_RECEIVE: {
      if (pss == nullptr) return -1;
      auto it = conns_.find(pss->id);
      if (it == conns_.end()) return -1;
      Conn& c = it->second;
      c.last_rx = std::chrono::steady_clock::now();
      c.ping_sent = false;
      if (lws_is_first_fragment(wsi)) {
        c.rx.clear();
        c.rx_oversize = false;
        c.rx_binary = lws_frame_is_binary(wsi) != 0;
      }
      OnReceive(pss->id, c, static_cast<const char*>(in), len);
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        OnWholeMessage(pss->id, c);
      }
      return 0;
    }
    case LWS_CALLBACK_RECEIVE_PONG: {
      if (pss == nullptr) return 0;
      auto it = conns_.find(pss->id);
      if (it != conns_.end()) {
        it->second.last_rx = std::chrono::steady_clock::now();
        it->second.ping_sent = false;
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      if (pss == nullptr) return -1;
      auto it = conns_.find(pss->id);
      if (it == conns_.end()) return -1;
      return OnWritable(it->second);
    }
    case LWS_CALLBACK_TIMER: {
      if (pss == nullptr) return 0;
      auto it = conns_.find(pss->id);
      if (it == conns_.end()) return -1;
      return OnTimer(pss->id, it->second);
    }
    case LWS_CALLBACK_CLOSED: {
      if (pss == nullptr || pss->id == 0) return 0;
      const ConnId id = pss->id;
      pss->id = 0;
      auto it = conns_.find(id);
      if (it == conns_.end()) return 0;
      const bool was_open = it->second.open;
      conns_.erase(it);
      VLOG(1) << "WebSocket " << id << " closed (" << conns_.size() << " open)";
      if (was_open && router_ != nullptr) router_->OnClose(id);
      return 0;
    }
    default:
      return 0;
  }
}

int WsEndpoint::OnEstablished(lws* wsi, PerSession* pss) {
  if (pss == nullptr) return -1;
  const ConnId id = next_id_++;
  pss->id = id;
  Conn& c = conns_[id];
  c.wsi = wsi;
  c.last_rx = std::chrono::steady_clock::now();
  lws_set_timer_usecs(wsi, absl::ToInt64Microseconds(options_.ping_interval / 2));

  const std::string app_id = CopyCustomHeader(wsi, "app-id");
  const std::string key = CopyCustomHeader(wsi, "session-key");
  absl::StatusOr<SessionKeyRecord> session = check_(app_id, key);
  if (!session.ok() || router_ == nullptr) {
    std::optional<int> code =
        session.ok() ? std::optional<int>(kCodeInternal) : GetCallsCode(session.status());
    std::string message =
        session.ok() ? "the server is shutting down" : std::string(session.status().message());
    if (!code) {
      LOG(ERROR) << "WebSocket session check failed: " << session.status();
      code = kCodeInternal;
      message = "internal server error";
    }
    VLOG(1) << "WebSocket " << id << " refused: code " << *code;
    SendError(id, *code, message);
    c.closing = true;
    return 0;
  }
  c.open = true;
  ConnectionInfo who;
  who.app_id = session->user.app_id;
  who.user_rowid = session->user.rowid;
  who.user_id = session->user.user_id;
  who.nickname = session->user.nickname;
  who.session_hash = Sha256Hex(key);
  VLOG(1) << "WebSocket " << id << " open (" << conns_.size() << " open)";
  router_->OnOpen(id, std::move(who));
  return 0;
}

void WsEndpoint::OnReceive(ConnId id, Conn& c, const char* data, size_t len) {
  if (c.rx_oversize) return;
  if (c.rx.size() + len > options_.max_message_bytes) {
    c.rx_oversize = true;
    c.rx.clear();
    c.rx.shrink_to_fit();
    return;
  }
  c.rx.append(data, len);
}

void WsEndpoint::OnWholeMessage(ConnId id, Conn& c) {
  std::string text = std::move(c.rx);
  c.rx.clear();
  if (!c.open || c.closing) return;
  if (c.rx_oversize) {
    VLOG(1) << "WebSocket " << id << ": message over " << options_.max_message_bytes
            << " bytes dropped";
    return SendError(
        id, kCodeInvalidParams,
        absl::StrCat("message over the limit of ", options_.max_message_bytes, " bytes"));
  }
  if (c.rx_binary) {
    return SendError(id, kCodeInvalidParams, "binary messages are not supported; send JSON text");
  }
  wire::v1::WsMessage message;
  if (absl::Status s = FromJson(text, &message); !s.ok()) {
    VLOG(1) << "WebSocket " << id << ": malformed message of " << text.size() << " bytes";
    return SendError(id, kCodeInvalidParams, s.message());
  }
  VLOG(1) << "WebSocket " << id << " <- " << message.type().substr(0, 32);
  if (router_ != nullptr) router_->OnMessage(id, message);
}

void WsEndpoint::Send(ConnId conn, const wire::v1::WsMessage& message) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second.closing) return;
  VLOG(1) << "WebSocket " << conn << " -> " << message.type();
  Queue(conn, it->second, ToJson(message));
}

void WsEndpoint::SendError(ConnId id, int code, absl::string_view message) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second.closing) return;
  wire::v1::WsMessage error;
  error.set_type("error");
  error.set_code(code);
  error.set_message(std::string(message));
  Queue(id, it->second, ToJson(error));
}

void WsEndpoint::Queue(ConnId id, Conn& c, std::string json) {
  if (c.queued_bytes + json.size() > options_.max_queued_bytes) {
    LOG(WARNING) << "WebSocket " << id << ": the client does not read; disconnecting it";
    c.closing = true;
    c.outbox.clear();
    c.queued_bytes = 0;
    lws_set_timeout(c.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return;
  }
  c.queued_bytes += json.size();
  std::string frame(LWS_PRE, '\0');
  frame += json;
  c.outbox.push_back(std::move(frame));
  lws_callback_on_writable(c.wsi);
}

int WsEndpoint::OnWritable(Conn& c) {
  if (c.ping_due) {
    c.ping_due = false;
    // With a payload: libwebsockets 4.1 hides empty pongs from the
    // protocol callback.
    static constexpr char kPayload[] = "alive?";
    unsigned char buf[LWS_PRE + sizeof(kPayload)];
    std::memcpy(buf + LWS_PRE, kPayload, sizeof(kPayload) - 1);
    if (lws_write(c.wsi, buf + LWS_PRE, sizeof(kPayload) - 1, LWS_WRITE_PING) < 0) return -1;
    if (!c.outbox.empty() || c.closing) lws_callback_on_writable(c.wsi);
    return 0;
  }
  if (!c.outbox.empty()) {
    std::string& frame = c.outbox.front();
    const size_t len = frame.size() - LWS_PRE;
    auto* data = reinterpret_cast<unsigned char*>(frame.data()) + LWS_PRE;
    if (lws_write(c.wsi, data, len, LWS_WRITE_TEXT) < static_cast<int>(len)) return -1;
    c.queued_bytes -= len;
    c.outbox.pop_front();
    if (!c.outbox.empty() || c.closing) lws_callback_on_writable(c.wsi);
    return 0;
  }
  if (c.closing) {
    static constexpr char kReason[] = "session refused";
    lws_close_reason(c.wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                     reinterpret_cast<unsigned char*>(const_cast<char*>(kReason)),
                     sizeof(kReason) - 1);
    return -1;
  }
  return 0;
}

int WsEndpoint::OnTimer(ConnId id, Conn& c) {
  // Ticks twice per ping_interval: a ping goes out after one interval of
  // silence, the close comes after two (at least half an interval after the
  // ping).
  const auto idle = std::chrono::steady_clock::now() - c.last_rx;
  const auto interval = absl::ToChronoMicroseconds(options_.ping_interval);
  if (idle >= 2 * interval) {
    LOG(INFO) << "WebSocket " << id << ": nothing received for "
              << absl::FormatDuration(2 * options_.ping_interval) << "; closing it";
    return -1;
  }
  if (idle >= interval && !c.ping_sent && !c.closing) {
    c.ping_due = true;
    c.ping_sent = true;
    lws_callback_on_writable(c.wsi);
  }
  lws_set_timer_usecs(c.wsi, absl::ToInt64Microseconds(options_.ping_interval / 2));
  return 0;
}

}  // namespace callsd::server
