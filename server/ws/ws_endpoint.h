// WsEndpoint: the signaling WebSocket of calls-server, GET /v1/ws, as a
// libwebsockets protocol on the HTTP server's vhost. It moves JSON text
// frames between connections and the CallRouter; the calls themselves are
// the router's business.
//
// Upgrade: GET /v1/ws with headers App-Id and Session-Key (an upgrade to any
// other path is refused). Once upgraded, the session is checked like the
// client API's:
//   valid        -> the router sends hello {user_id} and the connection
//                   serves messages;
//   not valid    -> error {code, message} (400111 a header is missing,
//                   400100 unknown app, 400302 unknown key, 400309 expired,
//                   400310 revoked; 500901 the store failed), then a close
//                   frame 1008 (policy violation).
// Frames: each text message (fragments assembled) is one JSON WsMessage.
// A binary message, one over Options::max_message_bytes or one that is not
// a WsMessage gets error {code 400100, message} and the connection stays
// open. Messages to a client are queued per connection; a client that lets
// more than Options::max_queued_bytes pile up is disconnected.
// Liveness: a connection with nothing received for Options::ping_interval
// gets a WebSocket ping; with nothing received for twice that, it is closed
// (the router then treats it as lost).
//
// Logs connection counts and message types, never a session key or a
// message's content.
//
// Threading: everything runs on the lws service thread, the router's
// sequence (LwsScheduler); Send() must be called there too.
#ifndef CALLSD_SERVER_WS_WS_ENDPOINT_H_
#define CALLSD_SERVER_WS_WS_ENDPOINT_H_

#include <libwebsockets.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/calls/call_router.h"
#include "server/store/store.h"

namespace callsd::server {

class WsEndpoint final : public ConnectionSender {
 public:
  struct Options {
    std::string path = "/v1/ws";
    size_t max_message_bytes = 64 * 1024;
    size_t max_queued_bytes = 1 << 20;
    absl::Duration ping_interval = absl::Seconds(15);
  };
  // The live session of (App-Id, Session-Key), or an error carrying its
  // Calls code (Api::CheckSession).
  using SessionCheck = std::function<absl::StatusOr<SessionKeyRecord>(
      absl::string_view app_id, absl::string_view session_key)>;

  WsEndpoint(SessionCheck check, Options options);
  explicit WsEndpoint(SessionCheck check) : WsEndpoint(std::move(check), Options()) {}
  ~WsEndpoint() override;

  WsEndpoint(const WsEndpoint&) = delete;
  WsEndpoint& operator=(const WsEndpoint&) = delete;

  // The protocol to add to the vhost, and the per-vhost options that make
  // it the default one (an upgrade without a subprotocol binds to it).
  // Both point into this object.
  lws_protocols protocol();
  const lws_protocol_vhost_options* vhost_options() const { return &vhost_options_; }

  // Where connection events go; set before serving. nullptr (e.g. at
  // shutdown, before the context is destroyed) stops every report.
  void set_router(CallRouter* router) { router_ = router; }

  // ConnectionSender.
  void Send(ConnId conn, const wire::v1::WsMessage& message) override;

  // Open connections (authenticated or not yet closed). Service thread.
  size_t connection_count() const { return conns_.size(); }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  struct Conn {
    lws* wsi = nullptr;
    bool open = false;               // authenticated and known to the router
    bool closing = false;            // close once the outbox is written
    std::deque<std::string> outbox;  // LWS_PRE bytes of headroom, then JSON
    size_t queued_bytes = 0;
    std::string rx;
    bool rx_binary = false;
    bool rx_oversize = false;
    SteadyTime last_rx;
    bool ping_due = false;   // write a ping at the next writable
    bool ping_sent = false;  // since the last thing received
  };
  // Per-session data: raw zeroed memory, so only the number.
  struct PerSession {
    ConnId id;
  };

  int OnEvent(lws* wsi, lws_callback_reasons reason, PerSession* pss, void* in, size_t len);
  int OnEstablished(lws* wsi, PerSession* pss);
  void OnReceive(ConnId id, Conn& c, const char* data, size_t len);
  void OnWholeMessage(ConnId id, Conn& c);
  int OnWritable(Conn& c);
  int OnTimer(ConnId id, Conn& c);
  // Queues an error {code, message} for `id`.
  void SendError(ConnId id, int code, absl::string_view message);
  void Queue(ConnId id, Conn& c, std::string json);

  static int Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);

  // Constant after construction.
  const SessionCheck check_;
  const Options options_;
  lws_protocol_vhost_options default_option_ = {};
  lws_protocol_vhost_options vhost_options_ = {};

  // Service thread only.
  CallRouter* router_ = nullptr;
  ConnId next_id_ = 1;
  std::map<ConnId, Conn> conns_;
};

}  // namespace callsd::server

#endif  // CALLSD_SERVER_WS_WS_ENDPOINT_H_
