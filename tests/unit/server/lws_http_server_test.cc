// LwsHttpServer over loopback with a fake handler: what libwebsockets hands
// over and how answers go back, on raw sockets so that every byte is seen.
#include "common/http/lws_http_server.h"
#include "server/http/http_types.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace callsd::server {
namespace {

using ::callsd::httpd::LwsHttpServer;

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

class RecordingHandler : public HttpHandler {
 public:
  HttpResponse Handle(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    HttpResponse response;
    response.http_status = request.path == "/teapot" ? 418 : 200;
    response.body = request.path == "/big" ? std::string(100'000, 'b')
                                           : absl::StrCat("{\"n\":", requests_.size(), "}");
    if (request.path == "/allow") response.headers.emplace_back("allow", "GET, DELETE");
    return response;
  }
  std::vector<HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

struct Reply {
  int status = 0;
  std::string head;  // status line and headers, lower-cased
  std::string body;
};

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Connection() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  // Reads one response (Content-Length framed). status 0 on EOF / timeout.
  Reply Read() {
    Reply reply;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return reply;
    }
    reply.head = absl::AsciiStrToLower(buffer_.substr(0, end));
    buffer_.erase(0, end + 4);
    absl::SimpleAtoi(reply.head.substr(9, 3), &reply.status);
    size_t length = 0;
    const size_t at = reply.head.find("content-length: ");
    if (at != std::string::npos) {
      absl::SimpleAtoi(reply.head.substr(at + 16, reply.head.find("\r\n", at) - at - 16), &length);
    }
    while (buffer_.size() < length) {
      if (!Fill()) return Reply();
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  // True when the server closed the connection (EOF) with nothing more.
  bool ClosedByPeer() {
    char c;
    return recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool Fill() {
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class LwsHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LwsHttpServer::Options options;
    options.port = 0;
    options.max_body_bytes = 300'000;
    auto server = LwsHttpServer::Create(options, &handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_;
  }

  RecordingHandler handler_;
  std::unique_ptr<LwsHttpServer> server_;
  std::thread thread_;
  absl::Status run_status_;
};

TEST_F(LwsHttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Connection c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  Reply first = c.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "{\"n\":1}");
  EXPECT_THAT(first.head, HasSubstr("content-type: application/json"));
  c.Send("DELETE /two HTTP/1.1\r\nHost: x\r\n\r\n");
  Reply second = c.Read();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "{\"n\":2}");
  c.Send("POST /three HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n{\"a\"");
  EXPECT_EQ(c.Read().body, "{\"n\":3}");
  auto requests = handler_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[2].method, "POST");
  EXPECT_EQ(requests[2].body, "{\"a\"");
}

TEST_F(LwsHttpServerTest, PathIsDecodedQueryAndHeadersArePassed) {
  Connection c(server_->port());
  c.Send(
      "DELETE /v1/push/voip/https%3A%2F%2Fpush.example%2Fa%3Fb%3D1%26c%3D%2525?user_id=a%26b+c&x "
      "HTTP/1.1\r\nHost: x\r\nApi-Token: tok\r\nAPP-ID: app\r\nSession-Key: key\r\n"
      "Content-Type: application/json\r\nX-Other: no\r\n\r\n");
  ASSERT_EQ(c.Read().status, 200);
  auto requests = handler_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const HttpRequest& r = requests[0];
  EXPECT_EQ(r.method, "DELETE");
  // libwebsockets decodes and collapses "//"; see RestorePathDecodedPushToken.
  EXPECT_EQ(r.path, "/v1/push/voip/https:/push.example/a?b=1&c=%25");
  EXPECT_THAT(r.query, UnorderedElementsAre(Pair("user_id", "a&b c"), Pair("x", "")));
  EXPECT_THAT(r.headers, UnorderedElementsAre(Pair("api-token", "tok"), Pair("app-id", "app"),
                                              Pair("session-key", "key"),
                                              Pair("content-type", "application/json")));
}

TEST_F(LwsHttpServerTest, LargeBodiesBothWays) {
  Connection c(server_->port());
  const std::string body(250'000, 'x');
  c.Send(absl::StrCat("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: ", body.size(),
                      "\r\n\r\n", body));
  Reply reply = c.Read();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, std::string(100'000, 'b'));
  ASSERT_EQ(handler_.requests().size(), 1u);
  EXPECT_EQ(handler_.requests()[0].body, body);
  // The connection is still good.
  c.Send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(LwsHttpServerTest, TooLargeBodyIs413AndCloses) {
  Connection c(server_->port());
  c.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 300001\r\n\r\n");
  Reply reply = c.Read();
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(reply.body,
            "{\"error\":true,\"code\":400100,\"message\":\"request body of 300001 bytes is over "
            "the limit of 300000 bytes\"}");
  EXPECT_THAT(reply.head, HasSubstr("connection: close"));
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_TRUE(handler_.requests().empty());
}

TEST_F(LwsHttpServerTest, ChunkedBodyIs411AndCloses) {
  Connection c(server_->port());
  c.Send("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  Reply reply = c.Read();
  EXPECT_EQ(reply.status, 411);
  EXPECT_THAT(reply.body, HasSubstr("\"code\":400100"));
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_TRUE(handler_.requests().empty());
}

TEST_F(LwsHttpServerTest, StatusAndExtraHeaders) {
  Connection c(server_->port());
  // One request at a time: libwebsockets 4.1.6 does not support pipelining.
  c.Send("GET /teapot HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.Read().status, 418);
  c.Send("GET /allow HTTP/1.1\r\nHost: x\r\n\r\n");
  Reply allow = c.Read();
  EXPECT_EQ(allow.status, 200);
  EXPECT_THAT(allow.head, HasSubstr("allow: get, delete"));
}

TEST_F(LwsHttpServerTest, ManyConnections) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < 20; ++i) {
    connections.push_back(std::make_unique<Connection>(server_->port()));
    connections.back()->Send("GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  for (auto& c : connections) EXPECT_EQ(c->Read().status, 200);
}

// A WebSocket protocol added later (the signaling channel) shares the vhost:
// upgrades without a subprotocol bind to it, HTTP stays with the API.
std::atomic<int> ws_established{0};
int WsCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  if (reason == LWS_CALLBACK_ESTABLISHED) ++ws_established;
  return 0;
}

TEST(LwsHttpServerProtocolsTest, WebSocketProtocolJoinsTheVhost) {
  RecordingHandler handler;
  lws_protocols ws{};
  ws.name = "calls-ws";
  ws.callback = &WsCallback;
  static const lws_protocol_vhost_options kDefault = {nullptr, nullptr, "default", ""};
  static const lws_protocol_vhost_options kWsOptions = {nullptr, &kDefault, "calls-ws", ""};
  LwsHttpServer::Options options;
  options.extra_protocols.push_back(ws);
  options.vhost_options = &kWsOptions;
  auto server = LwsHttpServer::Create(options, &handler);
  ASSERT_TRUE(server.ok()) << server.status();
  std::thread thread([&] { EXPECT_TRUE((*server)->Run().ok()); });

  Connection http((*server)->port());
  http.Send("GET /v1/users/a HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(http.Read().status, 200);
  EXPECT_EQ(handler.requests().size(), 1u);

  const int established_before = ws_established.load();
  Connection upgrade((*server)->port());
  upgrade.Send(
      "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  Reply reply = upgrade.Read();
  EXPECT_EQ(reply.status, 101) << reply.head;
  // A round trip through the service thread: ESTABLISHED has run by now.
  http.Send("GET /v1/users/b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(http.Read().status, 200);
  EXPECT_EQ(ws_established.load(), established_before + 1);
  EXPECT_EQ(handler.requests().size(), 2u);  // the upgrade never reached the API

  (*server)->Stop();
  thread.join();
}

TEST(LwsHttpServerCreateTest, PortInUseIsAnError) {
  RecordingHandler handler;
  auto first = LwsHttpServer::Create(LwsHttpServer::Options(), &handler);
  ASSERT_TRUE(first.ok()) << first.status();
  LwsHttpServer::Options options;
  options.port = (*first)->port();
  auto second = LwsHttpServer::Create(options, &handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(options.port)));
}

TEST(LwsHttpServerCreateTest, StopBeforeRunReturnsAtOnce) {
  RecordingHandler handler;
  auto server = LwsHttpServer::Create(LwsHttpServer::Options(), &handler);
  ASSERT_TRUE(server.ok());
  (*server)->Stop();
  EXPECT_TRUE((*server)->Run().ok());
}

}  // namespace
}  // namespace callsd::server
