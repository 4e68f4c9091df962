#include "tests/unit/common/http/test_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace callsd::testing {
namespace {

// Reads and writes through TLS or the bare socket.
class Stream {
 public:
  Stream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ssize_t Read(char* buf, size_t n) {
    if (ssl_ != nullptr) return SSL_read(ssl_, buf, static_cast<int>(n));
    for (;;) {
      const ssize_t r = recv(fd_, buf, n, 0);
      if (r >= 0 || errno != EINTR) return r;
    }
  }
  bool WriteAll(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t w;
      if (ssl_ != nullptr) {
        w = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
      } else {
        w = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
      }
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_;
};

// Reads one request (head, then a Content-Length body). False on EOF/error.
bool ReadRequest(Stream& stream, ReceivedRequest* out) {
  std::string data;
  char buf[4096];
  size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = stream.Read(buf, sizeof(buf));
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
  }
  std::vector<std::string> lines = absl::StrSplit(data.substr(0, head_end), "\r\n");
  std::vector<std::string> request_line = absl::StrSplit(lines[0], ' ');
  if (request_line.size() != 3) return false;
  out->method = request_line[0];
  out->target = request_line[1];
  size_t content_length = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) return false;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (name == "content-length" && !absl::SimpleAtoi(value, &content_length)) return false;
    out->headers.emplace_back(std::move(name), std::move(value));
  }
  out->body = data.substr(head_end + 4);
  while (out->body.size() < content_length) {
    const ssize_t n = stream.Read(buf, sizeof(buf));
    if (n <= 0) return false;
    out->body.append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string ReceivedRequest::Header(const std::string& lower_name, int* count) const {
  std::string value;
  int found = 0;
  for (const auto& [name, v] : headers) {
    if (name == lower_name) {
      if (found++ == 0) value = v;
    }
  }
  if (count != nullptr) *count = found;
  return value;
}

ScriptedReply ScriptedReply::Http(int status, std::string body, std::string content_type) {
  ScriptedReply reply;
  reply.raw = absl::StrCat("HTTP/1.1 ", status, " Scripted\r\n", "Content-Length: ", body.size(),
                           "\r\n", "Content-Type: ", content_type, "\r\n",
                           "Connection: close\r\n\r\n", body);
  return reply;
}

absl::StatusOr<std::unique_ptr<TestHttpServer>> TestHttpServer::Start(Handler handler,
                                                                      const Tls* tls) {
  std::unique_ptr<TestHttpServer> server(new TestHttpServer(std::move(handler), tls != nullptr));
  if (tls != nullptr) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    server->ssl_ctx_ = ctx;
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return absl::InternalError("cannot load the test certificate");
    }
  }
  server->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t addr_len = sizeof(addr);
  if (bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(server->listen_fd_, 256) != 0 ||
      getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    return absl::InternalError(absl::StrCat("cannot listen: ", strerror(errno)));
  }
  server->port_ = ntohs(addr.sin_port);
  server->accept_thread_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

TestHttpServer::TestHttpServer(Handler handler, bool tls)
    : handler_(std::move(handler)), tls_(tls) {}

TestHttpServer::~TestHttpServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  std::vector<int> fds;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
    fds = open_fds_;
  }
  for (int fd : fds) shutdown(fd, SHUT_RDWR);
  for (std::thread& t : threads) t.join();
  for (int fd : fds) close(fd);
  if (listen_fd_ >= 0) close(listen_fd_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string TestHttpServer::url(const std::string& path) const {
  return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_, path);
}

std::vector<ReceivedRequest> TestHttpServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

bool TestHttpServer::WaitForRequests(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

int TestHttpServer::failed_handshakes() const {
  absl::MutexLock lock(&mu_);
  return failed_handshakes_;
}

void TestHttpServer::AcceptLoop() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void TestHttpServer::Serve(int fd) {
  SSL* ssl = nullptr;
  if (tls_) {
    ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      ERR_clear_error();
      SSL_free(ssl);
      shutdown(fd, SHUT_RDWR);
      absl::MutexLock lock(&mu_);
      ++failed_handshakes_;
      return;
    }
  }
  Stream stream(fd, ssl);
  ReceivedRequest request;
  if (ReadRequest(stream, &request)) {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
    }
    const ScriptedReply reply = handler_(request);
    stream.WriteAll(reply.raw);
    if (reply.hang) {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&stopping_));
    }
  }
  if (ssl != nullptr) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  shutdown(fd, SHUT_RDWR);  // the fd itself is closed by the destructor
}

absl::StatusOr<TestHttpServer::Tls> MakeSelfSignedCert(const std::string& dir,
                                                       const std::string& name,
                                                       const std::string& subject_alt_names) {
  TestHttpServer::Tls tls;
  tls.cert_file = absl::StrCat(dir, "/", name, ".pem");
  tls.key_file = absl::StrCat(dir, "/", name, ".key");
  const std::string command = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2",
      " -subj /CN=", name, " -addext subjectAltName=", subject_alt_names, " -keyout ",
      tls.key_file, " -out ", tls.cert_file, " >/dev/null 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return tls;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "callsd-http-XXXXXX").string();
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

}  // namespace callsd::testing
