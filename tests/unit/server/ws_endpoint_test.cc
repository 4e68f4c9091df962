// The signaling WebSocket on a real LwsHttpServer over loopback: the
// upgrade and its session check, frames both ways, the router driven from
// the lws service thread, LwsScheduler's tasks and timers there, and
// CallsServer as a whole (including a restart in the middle of a call).
// Raw-socket clients; every wait has a deadline, nothing sleeps.
#include "server/ws/ws_endpoint.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/calls_error.h"
#include "common/crypto.h"
#include "common/http/lws_http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/app_registry.h"
#include "server/calls/call_router.h"
#include "server/calls_server.h"
#include "server/http/api.h"
#include "server/store/store.h"
#include "server/ws/lws_scheduler.h"
#include "tests/unit/server/temp_dir.h"
#include "tests/unit/server/ws_test_client.h"

namespace callsd::server::testing {
namespace {

using ::callsd::httpd::LwsHttpServer;
using ::testing::ElementsAre;

constexpr char kApp[] = "app";

// Every push is delivered at once (on_delivered is posted to the
// scheduler, from the service thread, as the real sender does from its
// HTTP thread). Tests wait for jobs with a deadline.
class InstantPusher final : public Pusher {
 public:
  explicit InstantPusher(Scheduler* scheduler) : scheduler_(scheduler) {}
  void Push(PushJob job, absl::AnyInvocable<void() &&> on_delivered) override {
    {
      absl::MutexLock lock(&mu_);
      jobs_.push_back(job.type + (job.end_result.empty() ? "" : " " + job.end_result));
    }
    if (on_delivered) scheduler_->Post(std::move(on_delivered));
  }
  // The jobs so far, once there are at least `n` (or at the deadline).
  std::vector<std::string> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return jobs_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), WsTestClient::kTimeout);
    return jobs_;
  }

 private:
  Scheduler* const scheduler_;
  absl::Mutex mu_;
  std::vector<std::string> jobs_ ABSL_GUARDED_BY(mu_);
};

class WsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.File("calls.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(apps_.Add(kApp, "master-token-of-the-app-0123").ok());
    const int64_t now = absl::ToUnixMillis(absl::Now());
    for (const char* user : {"alice", "bob"}) {
      auto record = store_->CreateUser(kApp, user, user, RandomBytes(32), "", now);
      ASSERT_TRUE(record.ok());
      ASSERT_TRUE(store_
                      ->AddSessionKey(Sha256Hex(std::string(user) + "-key"), record->rowid,
                                      std::nullopt, 0, now)
                      .ok());
    }
    ASSERT_TRUE(store_
                    ->AddSessionKey(Sha256Hex("old-key"), store_->GetUser(kApp, "bob")->rowid,
                                    std::nullopt, now - 1000, now - 2000)
                    .ok());
  }

  void Start(CallRouterOptions call_options = {}, WsEndpoint::Options ws_options = {}) {
    api_ = std::make_unique<Api>(store_.get(), &apps_, &RealClock());
    scheduler_ = std::make_unique<LwsScheduler>();
    pusher_ = std::make_unique<InstantPusher>(scheduler_.get());
    ws_ = std::make_unique<WsEndpoint>(
        [this](absl::string_view app, absl::string_view key) {
          return api_->CheckSession(app, key);
        },
        ws_options);
    router_ = std::make_unique<CallRouter>(store_.get(), scheduler_.get(), ws_.get(), pusher_.get(),
                                           call_options);
    ws_->set_router(router_.get());
    LwsHttpServer::Options options;
    options.extra_protocols = {scheduler_->protocol(), ws_->protocol()};
    options.vhost_options = ws_->vhost_options();
    auto server = LwsHttpServer::Create(options, api_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    scheduler_->Attach(server_->context());
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Run().ok()); });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    if (ws_) ws_->set_router(nullptr);
    if (scheduler_) scheduler_->Shutdown();
    server_.reset();
    router_.reset();
    ws_.reset();
    pusher_.reset();
    scheduler_.reset();
  }

  // A client upgraded with `key` (and the app), its hello taken.
  std::unique_ptr<WsTestClient> Connect(const std::string& key, const std::string& user_id) {
    auto client = std::make_unique<WsTestClient>(server_->port());
    EXPECT_TRUE(client->connected());
    EXPECT_EQ(client->Upgrade("/v1/ws", {{"App-Id", kApp}, {"Session-Key", key}}), 101)
        << client->head();
    wire::v1::WsMessage hello = client->Read();
    EXPECT_EQ(hello.type(), "hello");
    EXPECT_EQ(hello.user_id(), user_id);
    return client;
  }

  static wire::v1::WsMessage Msg(const std::string& type, const std::string& req_id,
                                 const std::string& call_id = "") {
    wire::v1::WsMessage m;
    m.set_type(type);
    m.set_req_id(req_id);
    m.set_call_id(call_id);
    return m;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  AppRegistry apps_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<LwsScheduler> scheduler_;
  std::unique_ptr<InstantPusher> pusher_;
  std::unique_ptr<WsEndpoint> ws_;
  std::unique_ptr<CallRouter> router_;
  std::unique_ptr<LwsHttpServer> server_;
  std::thread thread_;
};

TEST_F(WsEndpointTest, SchedulerRunsTasksAndTimersOnTheServiceThread) {
  Start();
  std::thread::id service;
  absl::Notification first;
  scheduler_->Post([&] {
    service = std::this_thread::get_id();
    first.Notify();
  });
  ASSERT_TRUE(first.WaitForNotificationWithTimeout(WsTestClient::kTimeout));
  EXPECT_EQ(service, thread_.get_id());

  absl::Mutex mu;
  std::vector<std::string> ran;
  absl::Notification done;
  auto record = [&](const std::string& what) {
    absl::MutexLock lock(&mu);
    ran.push_back(what);
    EXPECT_EQ(std::this_thread::get_id(), service);
  };
  scheduler_->RunAfter(absl::Milliseconds(80), [&] {
    record("80ms");
    done.Notify();
  });
  const TimerId canceled = scheduler_->RunAfter(absl::Milliseconds(40), [&] { record("no"); });
  scheduler_->RunAfter(absl::Milliseconds(20), [&] { record("20ms"); });
  scheduler_->Post([&] { record("posted"); });
  scheduler_->Cancel(canceled);
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(WsTestClient::kTimeout));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(ran, ElementsAre("posted", "20ms", "80ms"));
}

TEST_F(WsEndpointTest, UpgradeWithoutAValidSessionGetsAnErrorAndClose) {
  Start();
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    int code;
  };
  const std::vector<Case> cases = {
      {{}, kCodeMissingParams},
      {{{"App-Id", kApp}}, kCodeMissingParams},
      {{{"App-Id", "nope"}, {"Session-Key", "alice-key"}}, kCodeInvalidParams},
      {{{"App-Id", kApp}, {"Session-Key", "wrong"}}, kCodeInvalidAccessToken},
      {{{"App-Id", kApp}, {"Session-Key", "old-key"}}, kCodeSessionKeyExpired},
  };
  for (const Case& c : cases) {
    WsTestClient client(server_->port());
    ASSERT_EQ(client.Upgrade("/v1/ws", c.headers), 101) << client.head();
    wire::v1::WsMessage error = client.Read();
    EXPECT_EQ(error.type(), "error");
    EXPECT_EQ(error.code(), c.code) << error.message();
    std::optional<WsTestClient::Frame> close = client.ReadFrame();
    ASSERT_TRUE(close.has_value());
    EXPECT_EQ(close->opcode, 8);
    ASSERT_GE(close->payload.size(), 2u);
    EXPECT_EQ(
        (static_cast<uint8_t>(close->payload[0]) << 8) | static_cast<uint8_t>(close->payload[1]),
        1008);
    EXPECT_TRUE(client.WaitForEof());
  }
  EXPECT_EQ(router_->connections(), 0u);
}

TEST_F(WsEndpointTest, UpgradeToAnotherPathIsRefused) {
  Start();
  WsTestClient client(server_->port());
  EXPECT_NE(client.Upgrade("/v1/other", {{"App-Id", kApp}, {"Session-Key", "alice-key"}}), 101);
}

TEST_F(WsEndpointTest, AFullCallBetweenTwoSockets) {
  Start();
  auto alice = Connect("alice-key", "alice");
  auto bob = Connect("bob-key", "bob");

  wire::v1::WsMessage dial = Msg("dial", "d1");
  dial.set_callee_id("bob");
  dial.set_video(true);
  alice->Send(dial);
  wire::v1::WsMessage dialing = alice->Read();
  ASSERT_EQ(dialing.type(), "dialing");
  EXPECT_EQ(dialing.req_id(), "d1");
  const std::string id = dialing.call_id();
  wire::v1::WsMessage ack = alice->Read();
  EXPECT_EQ(ack.type(), "ringing_ack");
  EXPECT_EQ(ack.call_id(), id);

  bob->Send(Msg("accept", "a1", id));
  wire::v1::WsMessage established = bob->Read();
  EXPECT_EQ(established.type(), "established");
  EXPECT_EQ(established.req_id(), "a1");
  EXPECT_EQ(bob->Read().type(), "connected");
  EXPECT_EQ(alice->Read().type(), "established");
  EXPECT_EQ(alice->Read().type(), "connected");

  bob->Send(Msg("mute", "m1", id));
  EXPECT_EQ(bob->Read().type(), "ack");
  wire::v1::WsMessage muted = alice->Read();
  EXPECT_EQ(muted.type(), "remote_audio_changed");
  EXPECT_TRUE(muted.muted());

  alice->Send(Msg("end", "e1", id));
  wire::v1::WsMessage ended = alice->Read();
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.req_id(), "e1");
  EXPECT_EQ(ended.end_result(), "completed");
  EXPECT_EQ(bob->Read().end_result(), "completed");
  EXPECT_THAT(pusher_->WaitFor(2),
              ElementsAre("call.ringing", "call.canceled other_device_accepted"));
}

TEST_F(WsEndpointTest, BadMessagesGetErrorsAndTheConnectionStays) {
  WsEndpoint::Options options;
  options.max_message_bytes = 1000;
  Start({}, options);
  auto alice = Connect("alice-key", "alice");
  alice->SendText("not json");
  wire::v1::WsMessage error = alice->Read();
  EXPECT_EQ(error.type(), "error");
  EXPECT_EQ(error.code(), kCodeInvalidParams);
  EXPECT_EQ(error.req_id(), "");
  alice->SendFrame(2, "{\"type\":\"ping\"}");
  EXPECT_EQ(alice->Read().code(), kCodeInvalidParams);
  alice->SendText("{\"type\":\"ping\",\"req_id\":\"" + std::string(2000, 'x') + "\"}");
  error = alice->Read();
  EXPECT_EQ(error.code(), kCodeInvalidParams);
  EXPECT_EQ(error.message(), "message over the limit of 1000 bytes");
  alice->SendText("{\"type\":\"ping\",\"req_id\":\"p\"}");
  wire::v1::WsMessage pong = alice->Read();
  EXPECT_EQ(pong.type(), "pong");
  EXPECT_EQ(pong.req_id(), "p");
}

TEST_F(WsEndpointTest, RingingTimeoutFiresOnTheServiceThread) {
  CallRouterOptions options;
  options.ringing_timeout = absl::Milliseconds(300);
  Start(options);
  auto alice = Connect("alice-key", "alice");
  wire::v1::WsMessage dial = Msg("dial", "d1");
  dial.set_callee_id("bob");
  alice->Send(dial);
  EXPECT_EQ(alice->Read().type(), "dialing");
  EXPECT_EQ(alice->Read().type(), "ringing_ack");
  wire::v1::WsMessage ended = alice->Read();
  EXPECT_EQ(ended.type(), "ended");
  EXPECT_EQ(ended.end_result(), "no_answer");
}

TEST_F(WsEndpointTest, ClosingTheCallersSocketWhileRingingCancels) {
  Start();
  auto alice = Connect("alice-key", "alice");
  wire::v1::WsMessage dial = Msg("dial", "d1");
  dial.set_callee_id("bob");
  alice->Send(dial);
  const std::string id = alice->Read().call_id();
  alice->Close();
  EXPECT_THAT(pusher_->WaitFor(3),
              ElementsAre("call.ringing", "call.canceled canceled", "call.missed canceled"));
  EXPECT_EQ(store_->GetCall(id)->end_result, "canceled");
}

TEST_F(WsEndpointTest, SilentClientsArePingedThenDropped) {
  WsEndpoint::Options options;
  options.ping_interval = absl::Milliseconds(200);
  Start({}, options);
  auto alice = Connect("alice-key", "alice");
  // The client answers pings (ReadFrame does): it stays.
  EXPECT_FALSE(alice->ReadFrame(absl::Milliseconds(700)).has_value());
  alice->SendText("{\"type\":\"ping\",\"req_id\":\"p\"}");
  EXPECT_EQ(alice->Read().type(), "pong");
  // A client that answers no ping is closed.
  auto bob = Connect("bob-key", "bob");
  EXPECT_TRUE(bob->WaitForEof(absl::Seconds(5)));
}

// ---- CallsServer as a whole ----------------------------------------------------------

class CallsServerTest : public ::testing::Test {
 protected:
  void StartServer() {
    ServerOptions options;
    options.demo_dir = dir_.File("demo");
    options.db_path = dir_.File("calls.db");
    options.port = 0;
    options.reconnect_window_s = 30;
    auto server = CallsServer::Start(options, RealClock());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    thread_ = std::thread([this] { EXPECT_TRUE(server_->Run().ok()); });
  }
  void StopServer() {
    server_->RequestStop();
    thread_.join();
    server_.reset();
  }
  void TearDown() override {
    if (server_) StopServer();
  }

  // POST /v1/auth for a demo user; returns the session key.
  std::string Login(const std::string& user) {
    std::string token;
    {
      FILE* f = fopen(dir_.File("demo/" + user + ".token").c_str(), "r");
      EXPECT_NE(f, nullptr);
      char buf[256] = {};
      if (f != nullptr) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        token.assign(buf, n);
      }
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
    wire::v1::AuthRequest auth;
    auth.set_user_id(user);
    auth.set_access_token(token);
    const std::string body = ToJson(auth);
    const std::string request = absl::StrCat(
        "POST /v1/auth HTTP/1.1\r\nHost: x\r\nApp-Id: demo-app\r\nContent-Length: ", body.size(),
        "\r\nConnection: close\r\n\r\n", body);
    return RawExchange(request);
  }

  std::string RawExchange(const std::string& request) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string reply;
    char buf[4096];
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
      const size_t head = reply.find("\r\n\r\n");
      const size_t at = reply.find("content-length: ");
      size_t length = 0;
      if (head != std::string::npos && at != std::string::npos &&
          absl::SimpleAtoi(reply.substr(at + 16, reply.find("\r\n", at) - at - 16), &length) &&
          reply.size() >= head + 4 + length) {
        break;
      }
    }
    close(fd);
    const size_t body = reply.find("\r\n\r\n");
    EXPECT_NE(body, std::string::npos) << reply;
    wire::v1::AuthResponse auth;
    EXPECT_TRUE(FromJson(reply.substr(body + 4), &auth).ok()) << reply;
    return auth.session_key();
  }

  std::unique_ptr<WsTestClient> Connect(const std::string& key) {
    auto client = std::make_unique<WsTestClient>(server_->port());
    EXPECT_EQ(client->Upgrade("/v1/ws", {{"App-Id", "demo-app"}, {"Session-Key", key}}), 101);
    EXPECT_EQ(client->Read().type(), "hello");
    return client;
  }

  TempDir dir_;
  std::unique_ptr<CallsServer> server_;
  std::thread thread_;
};

TEST_F(CallsServerTest, CallsSurviveARestart) {
  StartServer();
  const std::string alice_key = Login("alice");
  const std::string bob_key = Login("bob");
  auto alice = Connect(alice_key);
  auto bob = Connect(bob_key);
  wire::v1::WsMessage dial;
  dial.set_type("dial");
  dial.set_req_id("d");
  dial.set_callee_id("bob");
  alice->Send(dial);
  wire::v1::WsMessage dialing = alice->Read();
  ASSERT_EQ(dialing.type(), "dialing");
  const std::string id = dialing.call_id();
  wire::v1::WsMessage accept;
  accept.set_type("accept");
  accept.set_req_id("a");
  accept.set_call_id(id);
  bob->Send(accept);
  EXPECT_EQ(bob->Read().type(), "established");
  EXPECT_EQ(bob->Read().type(), "connected");

  StopServer();
  EXPECT_TRUE(alice->WaitForEof());
  StartServer();

  // Both come back on new connections (alice with a new session key).
  alice = Connect(Login("alice"));
  bob = Connect(bob_key);
  wire::v1::WsMessage resume;
  resume.set_type("resume");
  resume.set_req_id("r");
  resume.add_call_ids(id);
  alice->Send(resume);
  bob->Send(resume);
  for (WsTestClient* client : {alice.get(), bob.get()}) {
    wire::v1::WsMessage resumed = client->Read();
    EXPECT_EQ(resumed.type(), "resumed");
    ASSERT_EQ(resumed.calls_size(), 1);
    EXPECT_EQ(resumed.calls(0).state(), "connected");
  }
  wire::v1::WsMessage end;
  end.set_type("end");
  end.set_req_id("e");
  end.set_call_id(id);
  bob->Send(end);
  EXPECT_EQ(bob->Read().end_result(), "completed");
  EXPECT_EQ(alice->Read().end_result(), "completed");
}

}  // namespace
}  // namespace callsd::server::testing
