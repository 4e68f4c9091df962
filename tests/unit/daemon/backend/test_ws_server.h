// A small WebSocket server for LwsCallChannel's tests: libwebsockets on
// 127.0.0.1, port 0, one service thread, optionally wss with a given
// certificate.
//
// It records every upgrade's request (path and the headers the channel
// sends), every complete text message received (fragments assembled), and
// every close. Each connection is greeted as configured (hello, error then a
// clean close, or nothing) and may echo what it receives. The test scripts
// the newest connection from its own thread: send text (whole or as several
// frames), send binary, close cleanly, drop the TCP connection without a
// close frame, or go silent (stop reading, so pings go unanswered, and stop
// writing).
#ifndef CALLSD_TESTS_UNIT_DAEMON_BACKEND_TEST_WS_SERVER_H_
#define CALLSD_TESTS_UNIT_DAEMON_BACKEND_TEST_WS_SERVER_H_

#include <libwebsockets.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace callsd::testing {

class TestWsServer {
 public:
  enum class Greeting {
    kHello,    // {"type":"hello","user_id":"alice"} right after the upgrade
    kError,    // {"type":"error","code":error_code,...}, then a close frame
    kNothing,  // the test sends the first message itself
  };
  struct Options {
    Greeting greeting = Greeting::kHello;
    int error_code = 400302;
    std::string error_message = "invalid session key";
    // Send every received text message back.
    bool echo = false;
    // wss with this certificate (PEM files); empty: plain ws.
    std::string cert_file;
    std::string key_file;
  };
  struct Handshake {
    std::string path;
    std::string host;
    std::string app_id;
    std::string session_key;
    bool offered_subprotocol = false;  // a Sec-WebSocket-Protocol header
  };

  static absl::StatusOr<std::unique_ptr<TestWsServer>> Start(Options options);
  // Closes every connection and joins the service thread.
  ~TestWsServer();

  TestWsServer(const TestWsServer&) = delete;
  TestWsServer& operator=(const TestWsServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + prefix, or "https://localhost:PORT" + prefix
  // with TLS (the test certificates name localhost).
  std::string base_url(const std::string& prefix = "") const;

  // Upgrades accepted so far, in order.
  std::vector<Handshake> handshakes() const;
  // Text messages received (all connections), in order.
  std::vector<std::string> received() const;
  // Close codes the client sent in its close frames, in order.
  std::vector<int> client_close_codes() const;
  int closed_connections() const;
  int open_connections() const;

  // Wait for a count to reach `n`; false at the deadline.
  bool WaitForHandshakes(size_t n, absl::Duration timeout) const;
  bool WaitForReceived(size_t n, absl::Duration timeout) const;
  bool WaitForClosed(int n, absl::Duration timeout) const;

  // Scripts for the newest open connection (no-ops without one).
  void Send(const std::string& text);
  // One text message in several frames (continuation frames).
  void SendFragmented(const std::vector<std::string>& parts);
  void SendBinary(const std::string& bytes);
  // After what is queued: a close frame with `code`.
  void Close(int code = 1000);
  // shutdown() of the TCP connection: no close frame.
  void Drop();
  // Stop reading (pings go unanswered) and writing.
  void GoSilent();

  static std::string HelloJson();

 private:
  struct Frame {
    std::string data;
    int flags = 0;  // lws_write flags
  };
  struct Session {
    int id = 0;
    lws* wsi = nullptr;
    std::deque<Frame> out;
    std::string rx;
    int close_code = 0;  // send a close frame once `out` is empty
    bool silent = false;
    bool closed = false;
  };
  struct Command {
    enum class Kind { kFrames, kClose, kDrop, kSilent } kind = Kind::kFrames;
    std::vector<Frame> frames;
    int code = 0;
  };

  explicit TestWsServer(Options options);
  absl::Status Init();
  void Run();
  void Handle(Command command);
  Session* Newest();
  Session* Of(lws* wsi);
  void Push(Command command);
  int OnEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  static int Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);

  struct ContextDeleter {
    void operator()(lws_context* context) const { lws_context_destroy(context); }
  };

  // Constant after Start().
  const Options options_;
  lws_protocols protocols_[2] = {};
  std::unique_ptr<lws_context, ContextDeleter> context_;
  void* client_ssl_ctx_ = nullptr;  // SSL_CTX*, owned (TLS only)
  int port_ = 0;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Command> commands_ ABSL_GUARDED_BY(mu_);
  std::vector<Handshake> handshakes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> received_ ABSL_GUARDED_BY(mu_);
  std::vector<int> client_close_codes_ ABSL_GUARDED_BY(mu_);
  int closed_ ABSL_GUARDED_BY(mu_) = 0;
  int open_ ABSL_GUARDED_BY(mu_) = 0;

  // Service thread only.
  std::map<lws*, Session> sessions_;
  int next_id_ = 1;
  // Between FILTER_PROTOCOL_CONNECTION (headers readable) and ESTABLISHED.
  std::map<lws*, Handshake> upgrading_;
};

}  // namespace callsd::testing

#endif  // CALLSD_TESTS_UNIT_DAEMON_BACKEND_TEST_WS_SERVER_H_
