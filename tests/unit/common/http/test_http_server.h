// A small HTTP/1.1 server for the HTTP client's tests, on 127.0.0.1 port 0.
//
// Plain POSIX sockets (and OpenSSL for https), one thread per connection, so
// that a test can script exactly what goes on the wire: a normal answer, a
// truncated body, an oversized one, or no answer at all. Each connection
// serves one request and is then closed (or held open until destruction).
#ifndef CALLSD_TESTS_UNIT_COMMON_HTTP_TEST_HTTP_SERVER_H_
#define CALLSD_TESTS_UNIT_COMMON_HTTP_TEST_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace callsd::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;  // path and query, as sent
  // Header names lower-cased, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of header `lower_name`, or "" (and `count` 0) when absent.
  std::string Header(const std::string& lower_name, int* count = nullptr) const;
};

struct ScriptedReply {
  std::string raw;    // bytes written as they are
  bool hang = false;  // after `raw`, keep the connection open, never answer
  // A complete response with Content-Length and Connection: close.
  static ScriptedReply Http(int status, std::string body,
                            std::string content_type = "application/json");
};

class TestHttpServer {
 public:
  using Handler = std::function<ScriptedReply(const ReceivedRequest&)>;

  struct Tls {
    std::string cert_file;  // PEM
    std::string key_file;   // PEM
  };

  // Listens on 127.0.0.1, port 0. `tls`: serve https with that certificate.
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> Start(Handler handler,
                                                               const Tls* tls = nullptr);
  // Closes every connection (hanging ones included) and joins all threads.
  ~TestHttpServer();

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const;

  // Requests received so far, in order of arrival.
  std::vector<ReceivedRequest> requests() const;
  // Waits until at least `n` requests arrived; false at the deadline.
  bool WaitForRequests(size_t n, absl::Duration timeout) const;
  // TLS handshakes that failed on the server side (client rejected us).
  int failed_handshakes() const;

 private:
  TestHttpServer(Handler handler, bool tls);
  void AcceptLoop();
  void Serve(int fd);

  const Handler handler_;
  const bool tls_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*, owned
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> open_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<ReceivedRequest> requests_ ABSL_GUARDED_BY(mu_);
  int failed_handshakes_ ABSL_GUARDED_BY(mu_) = 0;
};

// Writes a self-signed certificate (EC P-256) and its key into `dir`, valid
// for the given subjectAltName list (e.g. "DNS:localhost,IP:127.0.0.1").
// Uses the openssl command line tool.
absl::StatusOr<TestHttpServer::Tls> MakeSelfSignedCert(const std::string& dir,
                                                       const std::string& name,
                                                       const std::string& subject_alt_names);

// A fresh temporary directory, removed (with its files) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace callsd::testing

#endif  // CALLSD_TESTS_UNIT_COMMON_HTTP_TEST_HTTP_SERVER_H_
