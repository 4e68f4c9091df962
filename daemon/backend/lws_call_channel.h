// LwsCallChannel: CallChannel over libwebsockets 4.1 (ws/wss, OpenSSL).
//
// Structure (the same as LwsHttpClient): one lws context and one service
// thread per channel. Open(), Send() and Close() run on the engine; they
// queue a command and wake the service thread with lws_cancel_service(), the
// only thread-safe lws entry point. Everything lws (the connection, its
// timers, its queue of outgoing frames) lives on the service thread. Every
// listener callback is Post()ed to the engine.
//
// Connections are numbered: the number (the "generation", bumped by every
// Open() and Close()) tags the lws connection through opaque_user_data and
// travels with every task posted to the engine, which drops the task unless
// the number is still the current one. So a late lws callback of an old
// connection touches nothing, and no listener callback runs after Close()
// returns, even one that was already posted.
//
// Lifecycle of one Open():
//   TCP (+ TLS) connect, upgrade GET {path}/v1/ws with App-Id and
//   Session-Key, then wait for the server's first message:
//     hello           -> OnChannelOpen; queued messages go out, in order;
//     error           -> OnChannelClosed(CallsError(StatusCodeForServerCode(
//                        code), code, message)), and the connection closes;
//     anything else   -> OnChannelClosed(UNAVAILABLE).
//   All of that within Options::connect_timeout, or OnChannelClosed
//   (UNAVAILABLE naming the stage that did not finish). lws 4.1 resolves the
//   host name synchronously on the service thread, so a hanging DNS lookup
//   can delay the timeout (to the resolver's own timeout). Connection refused,
//   DNS, TLS (certificate) failures and a close before hello end in
//   OnChannelClosed(UNAVAILABLE naming what happened). An upgrade answered
//   with an HTTP status instead of 101 ends in UNAVAILABLE naming the status
//   (lws's WebSocket client does not expose that answer's body, so a Calls
//   code in it is lost: servers report refusals with the error message).
//   Once open: OnChannelMessage for every well-formed text message, in
//   order; then, unless Close() was called, exactly one OnChannelClosed
//   (UNAVAILABLE) when the server closes, the connection breaks, a frame
//   cannot be written, or nothing arrives for 2 x ping_interval.
//
// Received messages: fragments are assembled; a message that is binary,
// over max_message_bytes or not a WsMessage in JSON is logged (its size,
// never its content) and dropped; the channel stays open. Session keys are
// never logged.
#ifndef CALLSD_DAEMON_BACKEND_LWS_CALL_CHANNEL_H_
#define CALLSD_DAEMON_BACKEND_LWS_CALL_CHANNEL_H_

#include <libwebsockets.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/lws_client_tls.h"
#include "common/net_util.h"
#include "common/scheduler.h"
#include "daemon/backend/call_channel.h"

namespace callsd::daemon {

class LwsCallChannel final : public CallChannel {
 public:
  struct Options {
    // The calls server's base URL, http(s) (ws(s) is accepted too), possibly
    // with a path prefix: "https://calls.example.com/api" connects to
    // "wss://calls.example.com/api/v1/ws". No query or fragment.
    std::string base_url;
    // A PEM file of CA certificates trusted in addition to the system
    // bundle. Empty: the system bundle only.
    std::string ca_file;
    // Verify the server's certificate chain and host name (wss). Off is for
    // development only: a WARNING is logged at creation and per connection.
    bool verify_certificates = true;
    // Plain ws to hosts other than loopback (localhost, 127/8, ::1).
    bool allow_insecure_http = false;
    // TCP + TLS + upgrade + the server's hello, in all.
    absl::Duration connect_timeout = absl::Seconds(10);
    // Once open: a WebSocket ping when nothing was received for this long;
    // nothing at all received for twice this long closes the channel.
    absl::Duration ping_interval = absl::Seconds(10);
    // Larger received messages are dropped.
    size_t max_message_bytes = 64 * 1024;
    // Name of the service thread (15 characters show in ps).
    std::string thread_name = "callsd-ws";
  };

  // Checks `options`, creates the lws context and starts the service
  // thread. INVALID_ARGUMENT for a base_url that does not parse, is not
  // http(s)/ws(s), has a query, or is plain http/ws to a non-loopback host
  // without allow_insecure_http; for an unreadable or unusable ca_file; for
  // a non-positive timeout or limit. INTERNAL when lws cannot create its
  // context. `engine` must outlive the channel.
  static absl::StatusOr<std::unique_ptr<LwsCallChannel>> Create(Scheduler* engine,
                                                                Options options);

  // Closes as Close() does (a clean close frame after the queued messages,
  // waiting at most about a second for the server), then destroys the lws
  // context and joins the service thread. Bounded. Call on the engine
  // sequence, or once the engine has stopped; never from the service thread.
  ~LwsCallChannel() override;

  LwsCallChannel(const LwsCallChannel&) = delete;
  LwsCallChannel& operator=(const LwsCallChannel&) = delete;

  // CallChannel. Engine sequence only.
  //
  // Open: a no-op while active(). Credentials with CR, LF or NUL end in
  // OnChannelClosed(INVALID_ARGUMENT) without connecting. `listener` must
  // stay valid until OnChannelClosed or until Close() returns.
  void Open(const SessionCredentials& creds, Listener* listener) override;
  // Send: queued (as JSON, one text frame) while opening and sent once the
  // hello has arrived; dropped when not active().
  void Send(const wire::v1::WsMessage& message) override;
  // Close: no listener callback follows, not even one already posted. Once
  // open, the messages already queued are still written (a final "end" gets
  // out; this refines call_channel.h, which only promises to drop them),
  // then a close frame (1000), all in the background, bounded by 5 s. While
  // opening (no hello yet) the connection is abandoned and queued messages
  // are dropped. Open() may be called right after: it starts a new
  // connection while the old one finishes closing.
  void Close() override;
  bool active() const override;

  // The WebSocket URL this channel connects to.
  const std::string& ws_url() const { return ws_url_; }

 private:
  // Engine-sequence state, shared with the tasks posted to the engine so
  // that they stay safe after the channel is gone.
  struct EngineSide {
    enum class State { kIdle, kOpening, kOpen };
    uint64_t generation = 0;  // of the current connection
    State state = State::kIdle;
    Listener* listener = nullptr;
  };

  // Work for the service thread.
  struct Command {
    enum class Kind { kOpen, kSend, kClose };
    Kind kind = Kind::kOpen;
    uint64_t generation = 0;
    SessionCredentials creds;  // kOpen
    std::string frame;         // kSend: LWS_PRE bytes of headroom, then JSON
  };

  // The timer of one connection (connect timeout, ping, close deadline).
  // `sul` first in a standard-layout struct: lws hands back the sul pointer.
  struct TimerSlot {
    lws_sorted_usec_list_t sul;
    LwsCallChannel* channel;
    uint64_t generation;
  };

  enum class Stage {
    kConnecting,     // TCP (+ TLS)
    kUpgrading,      // the upgrade request is out, waiting for 101
    kAwaitingHello,  // upgraded, waiting for the server's first message
    kOpen,           // hello received
  };

  // One connection; service thread only. Lives until lws is done with its
  // wsi (or until it is abandoned: tag cleared, wsi killed).
  struct Conn {
    uint64_t generation = 0;
    SessionCredentials creds;
    lws* wsi = nullptr;
    Stage stage = Stage::kConnecting;
    absl::Time started;
    TimerSlot timer = {};
    // Close() was called: no more reports; flush, then a close frame.
    bool closing = false;
    // OnChannelClosed was posted (or Close() made it unnecessary).
    bool finished = false;
    std::deque<std::string> outbox;  // frames with LWS_PRE headroom
    // Receiving.
    std::string rx;
    bool in_message = false;
    bool rx_binary = false;
    bool rx_oversize = false;
    size_t rx_size = 0;
    absl::Time last_rx;
    bool ping_due = false;   // write a ping at the next writable
    bool ping_sent = false;  // since last_rx
    // Why it went, for the report.
    std::string cert_error;
    int peer_close_code = 0;
  };

  LwsCallChannel(Scheduler* engine, Options options, Url url);
  absl::Status Init();
  void Enqueue(Command command);

  // Engine-side reports, posted from the service thread.
  void PostOpen(uint64_t generation);
  void PostMessage(uint64_t generation, wire::v1::WsMessage message);
  void PostClosed(uint64_t generation, absl::Status why);

  // Service thread.
  void Run();
  void Handle(Command command);
  void Connect(Conn& c);
  Conn* Find(uint64_t generation);
  // Reports `why` once (unless closing), then forgets the connection.
  // `kill`: close the wsi now (not from inside one of its callbacks).
  void Fail(Conn& c, absl::Status why, bool kill);
  // Forgets `c`: cancels its timer, untags its wsi.
  void Forget(Conn& c);
  void ArmTimer(Conn& c, absl::Duration after);
  void OnTimer(Conn& c);
  void Opened(Conn& c);
  int OnEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int OnConnEvent(Conn& c, lws* wsi, lws_callback_reasons reason, void* user, void* in,
                  size_t len);
  int AppendHeaders(Conn& c, lws* wsi, void* in, size_t len);
  int OnReceive(Conn& c, lws* wsi, const void* in, size_t len);
  int OnMessage(Conn& c, lws* wsi);
  int OnWritable(Conn& c, lws* wsi);
  void OnConnectionClosed(Conn& c);
  absl::Status StageTimeout(const Conn& c) const;
  std::string Where() const;

  static int LwsCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                         size_t len);
  static void TimerCallback(lws_sorted_usec_list_t* sul);

  // Constant after construction.
  Scheduler* const engine_;
  const Options options_;
  const Url url_;            // the WebSocket URL, parsed
  const std::string ws_url_;
  const std::string host_header_;
  lws_protocols protocols_[2] = {};
  // Given to lws; outlives context_ (lws never frees a provided one).
  SslCtxPtr ssl_ctx_;
  // Destroyed on the service thread at the end of Run().
  LwsContextPtr context_;
  std::thread thread_;

  // Engine sequence only (and the tasks posted to it).
  const std::shared_ptr<EngineSide> side_ = std::make_shared<EngineSide>();

  absl::Mutex mu_;
  std::deque<Command> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The context is gone (or about to be): nobody may touch it.
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  // Service thread only.
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t connecting_generation_ = 0;  // inside lws_client_connect_via_info()
  bool draining_ = false;               // stopping: waiting for closes to finish
  absl::Time drain_deadline_;
  lws_sorted_usec_list_t drain_sul_ = {};
};

}  // namespace callsd::daemon

#endif  // CALLSD_DAEMON_BACKEND_LWS_CALL_CHANNEL_H_
