// LwsCallChannel against a real WebSocket server (TestWsServer, lws on
// 127.0.0.1) with a real EventLoop as the engine. Waits are on conditions
// with deadlines; a few tests check that something does NOT happen within a
// bounded window (that is the property under test, not synchronisation).
#include "daemon/backend/lws_call_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/calls_error.h"
#include "common/event_loop.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/common/http/test_http_server.h"
#include "tests/unit/daemon/backend/test_ws_server.h"

namespace callsd::daemon {
namespace {

using ::callsd::testing::TestWsServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Duration kWait = absl::Seconds(10);

// Records the listener callbacks (made on the engine thread) for the test
// thread.
class Recorder : public CallChannel::Listener {
 public:
  explicit Recorder(const EventLoop* engine) : engine_(engine) {}

  void OnChannelOpen() override {
    absl::MutexLock lock(&mu_);
    off_engine_ += engine_->IsCurrent() ? 0 : 1;
    events_.push_back("open");
    ++opens_;
  }
  void OnChannelMessage(const wire::v1::WsMessage& message) override {
    absl::MutexLock lock(&mu_);
    off_engine_ += engine_->IsCurrent() ? 0 : 1;
    events_.push_back(absl::StrCat("message:", message.type()));
    messages_.push_back(message);
  }
  void OnChannelClosed(const absl::Status& why) override {
    absl::MutexLock lock(&mu_);
    off_engine_ += engine_->IsCurrent() ? 0 : 1;
    events_.push_back("closed");
    closes_.push_back(why);
  }

  bool WaitForOpen(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return opens_ > 0 || !closes_.empty(); };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout) && opens_ > 0;
  }
  // The first close, or nullopt at the deadline.
  std::optional<absl::Status> WaitForClosed(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !closes_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) return std::nullopt;
    return closes_.front();
  }
  bool WaitForOpens(int n, absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return opens_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  bool WaitForMessages(size_t n, absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return messages_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }

  int opens() const {
    absl::MutexLock lock(&mu_);
    return opens_;
  }
  std::vector<absl::Status> closes() const {
    absl::MutexLock lock(&mu_);
    return closes_;
  }
  std::vector<wire::v1::WsMessage> messages() const {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  std::vector<std::string> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  int off_engine() const {
    absl::MutexLock lock(&mu_);
    return off_engine_;
  }

 private:
  const EventLoop* const engine_;
  mutable absl::Mutex mu_;
  int opens_ ABSL_GUARDED_BY(mu_) = 0;
  int off_engine_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Status> closes_ ABSL_GUARDED_BY(mu_);
  std::vector<wire::v1::WsMessage> messages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

wire::v1::WsMessage Msg(const std::string& type, const std::string& req_id = "") {
  wire::v1::WsMessage message;
  message.set_type(type);
  message.set_req_id(req_id);
  return message;
}

// A TCP socket on 127.0.0.1 that listens but never accepts: the kernel
// completes the handshake, nobody ever answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port on 127.0.0.1 where nothing listens (bound, then released).
int RefusingPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Accepts one connection, reads the request head and answers with `reply`,
// then holds the connection until destroyed.
class ScriptedHttpListener {
 public:
  explicit ScriptedHttpListener(std::string reply) : reply_(std::move(reply)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedHttpListener() {
    thread_.join();
    close(listener_.fd());
  }
  int port() const { return listener_.port(); }

 private:
  class Listener {
   public:
    Listener() {
      fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof(addr);
      bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      listen(fd_, 8);
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
    int fd() const { return fd_; }
    int port() const { return port_; }

   private:
    int fd_ = -1;
    int port_ = 0;
  };

  void Serve() {
    pollfd p{listener_.fd(), POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return;
    const int fd = accept(listener_.fd(), nullptr, nullptr);
    if (fd < 0) return;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      pollfd q{fd, POLLIN, 0};
      if (poll(&q, 1, 10000) != 1) break;
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    (void)!write(fd, reply_.data(), reply_.size());
    // Wait for the client to hang up.
    pollfd q{fd, POLLIN, 0};
    poll(&q, 1, 10000);
    close(fd);
  }

  const std::string reply_;
  Listener listener_;
  std::thread thread_;
};

class LwsCallChannelTest : public ::testing::Test {
 protected:
  void TearDown() override {
    engine_.RunSync([this] { channel_.reset(); });
    engine_.Stop();
    EXPECT_EQ(recorder_.off_engine(), 0) << "a listener callback ran off the engine thread";
  }

  void StartServer(TestWsServer::Options options = {}) {
    auto server = TestWsServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  LwsCallChannel::Options ChannelOptions() {
    LwsCallChannel::Options options;
    options.base_url = server_ != nullptr ? server_->base_url() : "";
    options.connect_timeout = absl::Seconds(5);
    return options;
  }

  void CreateChannel(LwsCallChannel::Options options) {
    auto channel = LwsCallChannel::Create(&engine_, std::move(options));
    ASSERT_TRUE(channel.ok()) << channel.status();
    channel_ = *std::move(channel);
  }

  void Open(SessionCredentials creds = {"app-1", "session-key-1"}) {
    engine_.RunSync([&] { channel_->Open(creds, &recorder_); });
  }
  void Send(const wire::v1::WsMessage& message) {
    engine_.RunSync([&] { channel_->Send(message); });
  }
  void Close() {
    engine_.RunSync([&] { channel_->Close(); });
  }
  bool Active() {
    bool active = false;
    engine_.RunSync([&] { active = channel_->active(); });
    return active;
  }
  // Runs what the engine already has queued.
  void FlushEngine() {
    engine_.RunSync([] {});
  }

  void OpenAndWait() {
    Open();
    ASSERT_TRUE(recorder_.WaitForOpen()) << (recorder_.closes().empty()
                                                 ? std::string("no callback")
                                                 : recorder_.closes()[0].ToString());
  }

  EventLoop engine_{"test-engine"};
  Recorder recorder_{&engine_};
  std::unique_ptr<TestWsServer> server_;
  std::unique_ptr<LwsCallChannel> channel_;
};

TEST_F(LwsCallChannelTest, SendsPathAndHeadersAndOpensOnHello) {
  StartServer();
  LwsCallChannel::Options options = ChannelOptions();
  options.base_url = server_->base_url("/calls/api/");
  CreateChannel(options);
  EXPECT_EQ(channel_->ws_url(), absl::StrCat("ws://127.0.0.1:", server_->port(), "/calls/api/v1/ws"));
  EXPECT_FALSE(Active());
  Open({"app-1", "secret-session-key"});
  EXPECT_TRUE(Active());
  ASSERT_TRUE(recorder_.WaitForOpen());
  EXPECT_TRUE(Active());
  ASSERT_EQ(server_->handshakes().size(), 1u);
  const TestWsServer::Handshake h = server_->handshakes()[0];
  EXPECT_EQ(h.path, "/calls/api/v1/ws");
  EXPECT_EQ(h.host, absl::StrCat("127.0.0.1:", server_->port()));
  EXPECT_EQ(h.app_id, "app-1");
  EXPECT_EQ(h.session_key, "secret-session-key");
  EXPECT_FALSE(h.offered_subprotocol);
  // The hello itself is not passed on as a message.
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open"));
}

TEST_F(LwsCallChannelTest, OpensOnlyAfterHelloAndHoldsSendsUntilThen) {
  TestWsServer::Options server_options;
  server_options.greeting = TestWsServer::Greeting::kNothing;
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  Open();
  ASSERT_TRUE(server_->WaitForHandshakes(1, kWait));
  Send(Msg("dial", "r1"));
  // Upgraded but no hello: neither an open nor the queued message goes out.
  EXPECT_FALSE(recorder_.WaitForOpen(absl::Milliseconds(300)));
  EXPECT_FALSE(server_->WaitForReceived(1, absl::Milliseconds(100)));
  EXPECT_TRUE(Active());

  server_->Send(TestWsServer::HelloJson());
  ASSERT_TRUE(recorder_.WaitForOpen());
  ASSERT_TRUE(server_->WaitForReceived(1, kWait));
  auto dial = ParseJson<wire::v1::WsMessage>(server_->received()[0]);
  ASSERT_TRUE(dial.ok()) << dial.status();
  EXPECT_EQ(dial->type(), "dial");
  EXPECT_EQ(dial->req_id(), "r1");
}

TEST_F(LwsCallChannelTest, ErrorInsteadOfHelloClosesWithTheServerCode) {
  TestWsServer::Options server_options;
  server_options.greeting = TestWsServer::Greeting::kError;
  server_options.error_code = kCodeInvalidAccessToken;
  server_options.error_message = "session key is not valid";
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetCallsCode(*why), kCodeInvalidAccessToken);
  EXPECT_EQ(why->message(), "session key is not valid");
  ASSERT_TRUE(server_->WaitForClosed(1, kWait));
  FlushEngine();
  EXPECT_EQ(recorder_.opens(), 0);
  EXPECT_EQ(recorder_.closes().size(), 1u);
  EXPECT_FALSE(Active());
}

TEST_F(LwsCallChannelTest, HundredMessagesEachWayInOrder) {
  TestWsServer::Options server_options;
  server_options.echo = true;
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  // Half queued while opening, half once open.
  Open();
  for (int i = 0; i < 50; ++i) Send(Msg("ping", absl::StrCat("r", i)));
  ASSERT_TRUE(recorder_.WaitForOpen());
  engine_.RunSync([this] {
    for (int i = 50; i < 100; ++i) channel_->Send(Msg("ping", absl::StrCat("r", i)));
  });
  ASSERT_TRUE(server_->WaitForReceived(100, kWait));
  const std::vector<std::string> received = server_->received();
  ASSERT_EQ(received.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    auto m = ParseJson<wire::v1::WsMessage>(received[i]);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->req_id(), absl::StrCat("r", i));
  }
  ASSERT_TRUE(recorder_.WaitForMessages(100));
  const std::vector<wire::v1::WsMessage> messages = recorder_.messages();
  ASSERT_EQ(messages.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(messages[i].type(), "ping");
    EXPECT_EQ(messages[i].req_id(), absl::StrCat("r", i));
  }
  EXPECT_TRUE(recorder_.closes().empty());
}

TEST_F(LwsCallChannelTest, LargeMessagesGoOutWhole) {
  // Larger than the socket send buffer lws sets (16 KiB): lws keeps what the
  // socket does not take and writes it before the next frame.
  TestWsServer::Options server_options;
  server_options.echo = true;
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  OpenAndWait();
  for (int i = 0; i < 3; ++i) {
    wire::v1::WsMessage big = Msg("dial", absl::StrCat("big", i));
    big.set_message(std::string(50 * 1024, static_cast<char>('a' + i)));
    Send(big);
  }
  ASSERT_TRUE(server_->WaitForReceived(3, kWait));
  ASSERT_TRUE(recorder_.WaitForMessages(3));
  const auto messages = recorder_.messages();
  for (int i = 0; i < 3; ++i) {
    auto sent = ParseJson<wire::v1::WsMessage>(server_->received()[i]);
    ASSERT_TRUE(sent.ok()) << sent.status();
    EXPECT_EQ(sent->req_id(), absl::StrCat("big", i));
    EXPECT_EQ(sent->message(), std::string(50 * 1024, static_cast<char>('a' + i)));
    EXPECT_EQ(messages[i].message(), sent->message());
  }
}

TEST_F(LwsCallChannelTest, AssemblesFragmentedAndLargeMessages) {
  StartServer();
  CreateChannel(ChannelOptions());
  OpenAndWait();
  server_->SendFragmented({R"({"type":"ringi)", R"(ng_ack","call_)", R"(id":"c1"})"});
  // One frame larger than lws's receive buffer: delivered in pieces.
  wire::v1::WsMessage big = Msg("ended");
  big.set_call_id("c2");
  big.set_message(std::string(40 * 1024, 'x'));
  server_->Send(ToJson(big));
  ASSERT_TRUE(recorder_.WaitForMessages(2));
  const auto messages = recorder_.messages();
  EXPECT_EQ(messages[0].type(), "ringing_ack");
  EXPECT_EQ(messages[0].call_id(), "c1");
  EXPECT_EQ(messages[1].call_id(), "c2");
  EXPECT_EQ(messages[1].message().size(), 40u * 1024);
}

TEST_F(LwsCallChannelTest, DropsMalformedBinaryAndOversizeMessagesButStaysOpen) {
  StartServer();
  LwsCallChannel::Options options = ChannelOptions();
  options.max_message_bytes = 8 * 1024;
  CreateChannel(options);
  OpenAndWait();
  server_->Send("this is not json");
  server_->Send(R"({"type": 12)");
  server_->Send(R"({"type":"x","video":"not a bool"})");
  server_->SendBinary(R"({"type":"binary"})");
  wire::v1::WsMessage oversize = Msg("oversize");
  oversize.set_message(std::string(9 * 1024, 'y'));
  server_->Send(ToJson(oversize));
  // Oversize over several frames too.
  server_->SendFragmented({R"({"type":"frag","message":")", std::string(5000, 'z'),
                           std::string(5000, 'z'), R"("})"});
  server_->Send(R"({"type":"connected","call_id":"c9"})");
  ASSERT_TRUE(recorder_.WaitForMessages(1));
  FlushEngine();
  const auto messages = recorder_.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].type(), "connected");
  EXPECT_EQ(messages[0].call_id(), "c9");
  EXPECT_TRUE(recorder_.closes().empty());
  EXPECT_TRUE(Active());
  // Still usable both ways.
  Send(Msg("mute", "m1"));
  ASSERT_TRUE(server_->WaitForReceived(1, kWait));
}

TEST_F(LwsCallChannelTest, ServerCloseReportsOneUnavailable) {
  StartServer();
  CreateChannel(ChannelOptions());
  OpenAndWait();
  server_->Close(1001);
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("close code 1001"));
  ASSERT_TRUE(server_->WaitForClosed(1, kWait));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open", "closed"));
  EXPECT_FALSE(Active());
  // Sends after the close go nowhere, and nothing else is reported.
  Send(Msg("dial"));
  Close();
  FlushEngine();
  EXPECT_EQ(recorder_.closes().size(), 1u);
}

TEST_F(LwsCallChannelTest, DroppedConnectionReportsOneUnavailable) {
  StartServer();
  CreateChannel(ChannelOptions());
  OpenAndWait();
  server_->Drop();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("closed the WebSocket"));
  ASSERT_TRUE(server_->WaitForClosed(1, kWait));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open", "closed"));
  EXPECT_FALSE(Active());
}

TEST_F(LwsCallChannelTest, ConnectionRefused) {
  LwsCallChannel::Options options = ChannelOptions();
  options.base_url = absl::StrCat("http://127.0.0.1:", RefusingPort());
  CreateChannel(options);
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("refused"));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("closed"));
  EXPECT_FALSE(Active());
}

TEST_F(LwsCallChannelTest, DnsFailure) {
  LwsCallChannel::Options options = ChannelOptions();
  options.base_url = "https://no-such-host.invalid";
  CreateChannel(options);
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("no-such-host.invalid"));
}

TEST_F(LwsCallChannelTest, ConnectTimeoutAgainstAListenerThatNeverAnswers) {
  SilentListener listener;
  LwsCallChannel::Options options = ChannelOptions();
  options.base_url = absl::StrCat("http://127.0.0.1:", listener.port());
  options.connect_timeout = absl::Milliseconds(500);
  CreateChannel(options);
  const absl::Time start = absl::Now();
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("did not answer the upgrade"));
  EXPECT_GE(took, absl::Milliseconds(450));
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_FALSE(Active());
}

TEST_F(LwsCallChannelTest, NoHelloWithinTheConnectTimeout) {
  TestWsServer::Options server_options;
  server_options.greeting = TestWsServer::Greeting::kNothing;
  StartServer(server_options);
  LwsCallChannel::Options options = ChannelOptions();
  options.connect_timeout = absl::Milliseconds(500);
  CreateChannel(options);
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("sent no hello"));
  // The abandoned connection goes away.
  EXPECT_TRUE(server_->WaitForClosed(1, kWait));
}

TEST_F(LwsCallChannelTest, UpgradeRefusedWithHttpStatus) {
  ScriptedHttpListener listener(
      "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n");
  LwsCallChannel::Options options = ChannelOptions();
  options.base_url = absl::StrCat("http://127.0.0.1:", listener.port());
  CreateChannel(options);
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("401"));
}

TEST_F(LwsCallChannelTest, SilentServerIsClosedByThePingTimeout) {
  StartServer();
  LwsCallChannel::Options options = ChannelOptions();
  options.ping_interval = absl::Milliseconds(200);
  CreateChannel(options);
  OpenAndWait();
  const absl::Time start = absl::Now();
  server_->GoSilent();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("no answer from the server"));
  EXPECT_LT(took, absl::Seconds(2));
  FlushEngine();
  EXPECT_EQ(recorder_.closes().size(), 1u);
  EXPECT_FALSE(Active());
}

TEST_F(LwsCallChannelTest, PingsKeepAnIdleConnectionOpen) {
  StartServer();
  LwsCallChannel::Options options = ChannelOptions();
  options.ping_interval = absl::Milliseconds(100);
  CreateChannel(options);
  OpenAndWait();
  // Ten intervals with no traffic but the server's pongs.
  EXPECT_FALSE(recorder_.WaitForClosed(absl::Seconds(1)).has_value());
  EXPECT_TRUE(Active());
}

TEST_F(LwsCallChannelTest, CloseFlushesQueuedMessagesThenClosesCleanlyWithoutCallbacks) {
  TestWsServer::Options server_options;
  server_options.echo = true;
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  OpenAndWait();
  engine_.RunSync([this] {
    for (int i = 0; i < 20; ++i) channel_->Send(Msg("end", absl::StrCat("e", i)));
    channel_->Close();
    EXPECT_FALSE(channel_->active());
  });
  ASSERT_TRUE(server_->WaitForClosed(1, kWait));
  const std::vector<std::string> received = server_->received();
  ASSERT_EQ(received.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ParseJson<wire::v1::WsMessage>(received[i])->req_id(), absl::StrCat("e", i));
  }
  EXPECT_THAT(server_->client_close_codes(), ElementsAre(1000));
  // The echoes arrived after Close(): none is passed on, nor any close.
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open"));
}

TEST_F(LwsCallChannelTest, CloseWhileOpeningAbandonsWithoutCallbacks) {
  TestWsServer::Options server_options;
  server_options.greeting = TestWsServer::Greeting::kNothing;
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  Open();
  ASSERT_TRUE(server_->WaitForHandshakes(1, kWait));
  Close();
  EXPECT_FALSE(Active());
  ASSERT_TRUE(server_->WaitForClosed(1, kWait));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), IsEmpty());
}

TEST_F(LwsCallChannelTest, ReopensAfterClose) {
  TestWsServer::Options server_options;
  server_options.echo = true;
  StartServer(server_options);
  CreateChannel(ChannelOptions());
  OpenAndWait();
  // Close and open again in one engine task: a new connection.
  engine_.RunSync([this] {
    channel_->Close();
    channel_->Open({"app-1", "session-key-2"}, &recorder_);
    EXPECT_TRUE(channel_->active());
    channel_->Send(Msg("dial", "after-reopen"));
  });
  ASSERT_TRUE(server_->WaitForHandshakes(2, kWait));
  EXPECT_EQ(server_->handshakes()[1].session_key, "session-key-2");
  ASSERT_TRUE(recorder_.WaitForMessages(1));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open", "open", "message:dial"));
  EXPECT_EQ(recorder_.messages()[0].req_id(), "after-reopen");
  EXPECT_TRUE(server_->WaitForClosed(1, kWait));  // the first connection, cleanly
  EXPECT_THAT(server_->client_close_codes(), ElementsAre(1000));
  EXPECT_TRUE(Active());
}

TEST_F(LwsCallChannelTest, ReopensAfterTheServerClosed) {
  StartServer();
  CreateChannel(ChannelOptions());
  OpenAndWait();
  server_->Close(1000);
  ASSERT_TRUE(recorder_.WaitForClosed().has_value());
  Open();
  ASSERT_TRUE(server_->WaitForHandshakes(2, kWait));
  ASSERT_TRUE(recorder_.WaitForOpens(2));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open", "closed", "open"));
}

TEST_F(LwsCallChannelTest, BadCredentialsAreRefusedWithoutConnecting) {
  StartServer();
  CreateChannel(ChannelOptions());
  Open({"app-1", "key\r\nX-Evil: 1"});
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(why->message()), ::testing::Not(HasSubstr("Evil")));
  EXPECT_TRUE(server_->handshakes().empty());
}

TEST_F(LwsCallChannelTest, DestructionWhileOpenIsBoundedAndSilent) {
  StartServer();
  CreateChannel(ChannelOptions());
  OpenAndWait();
  server_->GoSilent();  // the close handshake will never be answered
  const absl::Time start = absl::Now();
  engine_.RunSync([this] { channel_.reset(); });
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  FlushEngine();
  EXPECT_THAT(recorder_.events(), ElementsAre("open"));
}

TEST_F(LwsCallChannelTest, CreateChecksOptions) {
  // Plain ws to a host that is not loopback: refused before anything runs.
  LwsCallChannel::Options options;
  options.base_url = "http://192.0.2.10:8080";
  absl::StatusOr<std::unique_ptr<LwsCallChannel>> channel =
      LwsCallChannel::Create(&engine_, options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(channel.status().message()), HasSubstr("plain ws"));
  // ... unless allowed explicitly.
  options.allow_insecure_http = true;
  channel = LwsCallChannel::Create(&engine_, options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ((*channel)->ws_url(), "ws://192.0.2.10:8080/v1/ws");
  engine_.RunSync([&] { channel->reset(); });

  options = {};
  options.base_url = "https://calls.example.com";
  channel = LwsCallChannel::Create(&engine_, options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ((*channel)->ws_url(), "wss://calls.example.com/v1/ws");
  engine_.RunSync([&] { channel->reset(); });

  for (const char* bad : {"", "ftp://x/", "https://x/?a=b", "no-scheme"}) {
    options.base_url = bad;
    EXPECT_EQ(LwsCallChannel::Create(&engine_, options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  options.base_url = "https://calls.example.com";
  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(LwsCallChannel::Create(&engine_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.ca_file = "";
  options.ping_interval = absl::ZeroDuration();
  EXPECT_EQ(LwsCallChannel::Create(&engine_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class LwsCallChannelTlsTest : public LwsCallChannelTest {
 protected:
  void SetUp() override {
    auto cert = ::callsd::testing::MakeSelfSignedCert(dir_.path(), "localhost",
                                                        "DNS:localhost,IP:127.0.0.1");
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *cert;
    TestWsServer::Options server_options;
    server_options.echo = true;
    server_options.cert_file = cert_.cert_file;
    server_options.key_file = cert_.key_file;
    StartServer(server_options);
  }

  ::callsd::testing::TempDir dir_;
  ::callsd::testing::TestHttpServer::Tls cert_;
};

TEST_F(LwsCallChannelTlsTest, SelfSignedCertificateIsRefused) {
  CreateChannel(ChannelOptions());
  EXPECT_EQ(channel_->ws_url(), absl::StrCat("wss://localhost:", server_->port(), "/v1/ws"));
  Open();
  std::optional<absl::Status> why = recorder_.WaitForClosed();
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(why->message()), HasSubstr("certificate"));
  EXPECT_TRUE(server_->handshakes().empty());
}

TEST_F(LwsCallChannelTlsTest, SelfSignedCertificateIsAcceptedWithCaFile) {
  LwsCallChannel::Options options = ChannelOptions();
  options.ca_file = cert_.cert_file;
  CreateChannel(options);
  OpenAndWait();
  Send(Msg("dial", "tls-1"));
  ASSERT_TRUE(recorder_.WaitForMessages(1));
  EXPECT_EQ(recorder_.messages()[0].req_id(), "tls-1");
  ASSERT_EQ(server_->handshakes().size(), 1u);
  EXPECT_EQ(server_->handshakes()[0].session_key, "session-key-1");
}

}  // namespace
}  // namespace callsd::daemon
