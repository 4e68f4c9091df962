// LwsHttpClient: HttpClient over libwebsockets 4.1 (HTTP/1.1, OpenSSL).
//
// One lws context and one service thread per client. Send() queues the
// request and wakes the thread with lws_cancel_service(), the only
// thread-safe lws entry point; everything else (connections, timers, the
// table of requests in flight) lives on that thread. Each request gets its
// own connection (no keep-alive, no pipelining, no redirects followed),
// tagged with the request's id through opaque_user_data, so that a late
// callback of a finished connection cannot complete another request.
#ifndef CALLSD_COMMON_HTTP_LWS_HTTP_CLIENT_H_
#define CALLSD_COMMON_HTTP_LWS_HTTP_CLIENT_H_

#include <libwebsockets.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "common/http/lws_client_tls.h"
#include "common/net_util.h"

namespace callsd {

struct LwsHttpClientOptions {
  // A PEM file of CA certificates trusted in addition to the system bundle
  // (/etc/ssl/certs). Empty: the system bundle only.
  std::string ca_file;
  // Verify the server's certificate chain and host name (https). Turning
  // this off is for development only; the client logs a warning.
  bool verify_certificates = true;
  // Plain http to hosts other than loopback (localhost, 127/8, ::1).
  bool allow_insecure_http = false;
  // Larger response bodies fail with UNAVAILABLE.
  size_t max_response_bytes = 1 << 20;
  // Requests beyond this many connections wait, in order, for a free one
  // (their timeout keeps running).
  int max_connections = 64;
  std::string user_agent = "callsd/0.1";
  // Name of the service thread (15 characters show in ps).
  std::string thread_name = "callsd-http";
};

class LwsHttpClient final : public HttpClient {
 public:
  // Creates the lws context and starts the service thread.
  // INVALID_ARGUMENT for bad options (an unreadable or unusable ca_file,
  // a zero limit); INTERNAL when libwebsockets cannot create its context.
  static absl::StatusOr<std::unique_ptr<LwsHttpClient>> Create(
      LwsHttpClientOptions options = {});

  // Completes every request still queued or in flight with UNAVAILABLE
  // ("shutting down"), on the service thread, then destroys the context
  // and joins the thread. Bounded: it does not wait for any server. Must
  // not be called from a `done` callback (that is the service thread).
  ~LwsHttpClient() override;

  LwsHttpClient(const LwsHttpClient&) = delete;
  LwsHttpClient& operator=(const LwsHttpClient&) = delete;

  // See HttpClient::Send. `done` runs on the service thread. A Send() that
  // races with the destructor (a caller bug) fails with UNAVAILABLE, inline
  // if the service thread is already gone.
  void Send(HttpRequest request, Callback done) override;

 private:
  // The timer of one request. `sul` is the first member of a standard-layout
  // struct, so the sul pointer lws hands back converts to the slot.
  struct TimerSlot {
    lws_sorted_usec_list_t sul;
    LwsHttpClient* client;
    uint64_t id;
  };
  // One request from admission to completion; service thread only.
  struct Pending {
    uint64_t id = 0;
    HttpRequest request;
    Callback done;
    Url url;
    std::string host_header;
    absl::Time started;
    TimerSlot timer = {};
    lws* wsi = nullptr;         // once lws gave it; cleared when it goes
    bool connecting = false;    // holds one of max_connections
    size_t body_sent = 0;
    bool established = false;   // the status line and headers arrived
    bool length_known = false;  // Content-Length or chunked
    std::string cert_error;     // why OpenSSL rejected the server's certificate
    HttpResponse response;
  };
  // A request handed over by Send(), not yet seen by the service thread.
  struct Queued {
    HttpRequest request;
    Callback done;
    Url url;
    absl::Time deadline;
    absl::Status error;  // not OK: fail with it without sending
  };

  // Request bodies go out in pieces of this size, one per writable callback.
  static constexpr size_t kWriteChunk = 16 * 1024;

  explicit LwsHttpClient(LwsHttpClientOptions options);
  absl::Status Init();

  // Service thread.
  void Run();
  void Admit(Queued queued);
  void StartWaiting();
  void Connect(uint64_t id);
  void Complete(uint64_t id, absl::StatusOr<HttpResponse> result);
  void Abort(uint64_t id, absl::Status status);
  void FailEverything();
  Pending* Find(uint64_t id);
  int OnEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  // lws_http_client_io.cc: one request's connection events.
  int OnRequestEvent(Pending& p, lws* wsi, lws_callback_reasons reason, void* user,
                     void* in, size_t len);
  int AppendHeaders(Pending& p, lws* wsi, void* in, size_t len);
  int WriteBody(Pending& p, lws* wsi);
  int OnEstablished(Pending& p, lws* wsi);
  void OnClosed(Pending& p);

  static int LwsCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                         size_t len);
  static void OnTimer(lws_sorted_usec_list_t* sul);

  // Constant after construction.
  const LwsHttpClientOptions options_;
  lws_protocols protocols_[2] = {};
  // Given to lws; outlives context_ (lws never frees a provided one).
  SslCtxPtr ssl_ctx_;
  // Destroyed on the service thread, after closed_ is set.
  LwsContextPtr context_;
  std::thread thread_;

  absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The context is gone (or about to be): Send() must not touch it.
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  // Service thread only.
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
  std::deque<uint64_t> waiting_;  // admitted, waiting for a connection slot
  int connections_ = 0;
  uint64_t connecting_id_ = 0;  // inside lws_client_connect_via_info()
  std::vector<unsigned char> write_buf_;
};

}  // namespace callsd

#endif  // CALLSD_COMMON_HTTP_LWS_HTTP_CLIENT_H_
