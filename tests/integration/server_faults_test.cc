// Server faults (issue 7, point 2) and TLS verification (point 6): the real
// calls-server killed and restarted at chosen moments, answering later than
// the daemon's request timeout, and serving certificates that are good,
// from an unknown CA, for another host or expired. Whatever happens, every
// callsctl call answers within its deadline, the daemon ends in a defined
// state (a clear error or a recovered session) and keeps running.
//
// The moments are chosen without sleeping: a relay between callsd and
// calls-server (FaultRelay) stops one chosen request, says so, and lets the
// test kill the server before it forwards or drops what it holds.
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <cstdio>
#include <functional>
#include <optional>
#include <ostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// --- FaultRelay ----------------------------------------------------------------------

// A TCP relay on loopback in front of calls-server's port. Connections are
// relayed byte for byte, except the one armed request: the first connection
// whose request head starts with the armed prefix (e.g. "POST /v1/auth") is
// held, either before anything reaches the server (kRequest) or once the
// server's answer has started to arrive (kResponse, the request processed).
// The test then waits for WaitHeld(), does its damage (kills the server),
// and decides: Forward() goes on (connecting upstream only now), Drop()
// closes the connection towards callsd.
class FaultRelay {
 public:
  enum class Hold { kRequest, kResponse };

  explicit FaultRelay(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(listen_fd_, 64), 0);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~FaultRelay() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    acceptor_.join();
    std::vector<std::thread> pumps;
    {
      absl::MutexLock lock(&mu_);
      pumps.swap(pumps_);
    }
    for (std::thread& t : pumps) t.join();
    ::close(listen_fd_);
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  void Arm(std::string prefix, Hold where) {
    absl::MutexLock lock(&mu_);
    armed_prefix_ = std::move(prefix);
    armed_where_ = where;
    held_ = false;
    decision_ = Decision::kNone;
  }

  // The armed request is held (and the test may act).
  bool WaitHeld(absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&held_), timeout);
  }

  void Forward() { Decide(Decision::kForward); }
  void Drop() { Decide(Decision::kDrop); }

 private:
  enum class Decision { kNone, kForward, kDrop };

  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }

  bool stopping() {
    absl::MutexLock lock(&mu_);
    return stop_;
  }

  void Decide(Decision d) {
    absl::MutexLock lock(&mu_);
    decision_ = d;
  }

  // Marks the connection held and waits for the test's decision (or the
  // relay's end, which drops).
  Decision HoldHere() {
    absl::MutexLock lock(&mu_);
    held_ = true;
    mu_.Await(absl::Condition(
        +[](FaultRelay* r) { return r->decision_ != Decision::kNone || r->stop_; }, this));
    return stop_ ? Decision::kDrop : decision_;
  }

  void Accept() {
    while (!stopping()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      absl::MutexLock lock(&mu_);
      pumps_.emplace_back([this, c] {
        Relay(c);
        ::close(c);
      });
    }
  }

  // Reads from `fd` into `out` within 50 ms: false at EOF or error.
  static bool ReadSome(int fd, std::string* out, bool* got) {
    pollfd p{fd, POLLIN, 0};
    *got = false;
    if (::poll(&p, 1, 50) <= 0) return true;
    char buf[16384];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    out->append(buf, static_cast<size_t>(n));
    *got = true;
    return true;
  }

  static bool WriteAll(int fd, const std::string& data) {
    for (size_t off = 0; off < data.size();) {
      const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
    return true;
  }

  void Relay(int client) {
    // The request head decides whether this is the armed connection.
    std::string head;
    bool got = false;
    while (head.find("\r\n\r\n") == std::string::npos) {
      if (stopping() || !ReadSome(client, &head, &got)) return;
    }
    std::optional<Hold> hold;
    {
      absl::MutexLock lock(&mu_);
      if (!armed_prefix_.empty() && absl::StartsWith(head, armed_prefix_)) {
        hold = armed_where_;
        armed_prefix_.clear();
      }
    }
    if (hold == Hold::kRequest && HoldHere() == Decision::kDrop) return;

    const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(upstream_port_);
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        !WriteAll(up, head)) {
      ::close(up);  // the server is gone: callsd sees the connection close
      return;
    }
    if (hold == Hold::kResponse) {
      // Pass the rest of the request on until the answer starts, hold it.
      std::string answer;
      for (bool ok = true; ok && answer.empty() && !stopping();) {
        std::string body;
        ok = ReadSome(client, &body, &got) && WriteAll(up, body) &&
             ReadSome(up, &answer, &got);
      }
      if (HoldHere() == Decision::kDrop || !WriteAll(client, answer)) {
        ::close(up);
        return;
      }
    }
    Pump(client, up);
    ::close(up);
  }

  void Pump(int client, int up) {
    char buf[16384];
    while (!stopping()) {
      pollfd p[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (p[i].revents == 0) continue;
        const ssize_t n = ::read(p[i].fd, buf, sizeof(buf));
        if (n <= 0 || !WriteAll(i == 0 ? up : client, std::string(buf, static_cast<size_t>(n)))) {
          return;
        }
      }
    }
  }

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
  std::string armed_prefix_ ABSL_GUARDED_BY(mu_);
  Hold armed_where_ ABSL_GUARDED_BY(mu_) = Hold::kRequest;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  Decision decision_ ABSL_GUARDED_BY(mu_) = Decision::kNone;
};

// --- Common checks ---------------------------------------------------------------------

// A callsctl call with its own deadline, and how long it took.
struct Timed {
  CommandResult result;
  absl::Duration took;
};

Timed TimedCtl(const DaemonProcess& daemon, const std::vector<std::string>& args,
               const std::string& in = "") {
  const absl::Time start = absl::Now();
  Timed t;
  t.result = daemon.Ctl(args, in);
  t.took = absl::Now() - start;
  return t;
}

// One line in the test output per faulted RPC: what it answered, how fast.
void Note(const std::string& what, const Timed& t) {
  const std::string& text = t.result.exit_code == 0 ? t.result.out : t.result.err;
  std::fprintf(stderr, "[ fault    ] %s: exit %d in %s: %s\n", what.c_str(), t.result.exit_code,
               absl::FormatDuration(t.took).c_str(), text.substr(0, text.find('\n')).c_str());
}

// The daemon is alive and answers status; its status JSON.
std::string AliveStatus(DaemonProcess& daemon) {
  CommandResult status = daemon.Ctl({"--timeout", "5", "--json", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(daemon.running());
  return status.out;
}

void PrintLogs(const std::vector<const DaemonProcess*>& daemons, const ServerProcess* server) {
  for (const DaemonProcess* d : daemons) {
    std::fprintf(stderr, "--- callsd (%s) ---\n%s\n", d->socket().c_str(), d->log().c_str());
  }
  if (server != nullptr) {
    std::fprintf(stderr, "--- calls-server ---\n%s\n", ReadFile(server->log_path()).c_str());
  }
}

// --- Server killed and restarted mid-request ----------------------------------------------

// The daemons' request timeout, and the bound every RPC here must answer
// within: the timeout plus callsctl's start-up and a margin for sanitizer
// builds. callsctl's own deadline is 20 s, so an answer within the bound
// comes from the daemon, not from callsctl giving up.
constexpr int kRequestTimeoutMs = 2000;
constexpr absl::Duration kAnswerBound = absl::Seconds(10);

std::vector<std::string> FaultDaemonArgs(int request_timeout_ms = kRequestTimeoutMs) {
  return {absl::StrCat("--set=server.request_timeout_ms = ", request_timeout_ms),
          "--set=session.retry_initial_ms = 100\nsession.retry_max_ms = 400",
          "--set=calls.reconnect_window_s = 4", "--set=push.endpoint = \"127.0.0.1:0\""};
}

// Registers `d`'s built-in push endpoint as its voip token (calls ring it).
void RegisterEndpoint(DaemonProcess& d) {
  const std::string endpoint = JsonField(d.Ctl({"--json", "status"}).out, "push_endpoint_url");
  ASSERT_FALSE(endpoint.empty());
  CommandResult reg = d.Ctl({"push", "register", "voip", endpoint});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
}

// calls-server, a FaultRelay in front of it, and a callsd on the relay.
class ServerFaultsTest : public ::testing::Test {
 protected:
  explicit ServerFaultsTest(int request_timeout_ms = kRequestTimeoutMs)
      : server_(dir_.path(), {"--ringing_timeout_s=20", "--reconnect_window_s=4"}),
        relay_(server_.port()),
        daemon_(dir_.path(), relay_.url(), FaultDaemonArgs(request_timeout_ms)) {}

  void SetUp() override {
    ASSERT_TRUE(daemon_.Start());
    ASSERT_EQ(daemon_.Ctl({"init", "demo-app"}).exit_code, 0);
  }
  void TearDown() override {
    if (HasFailure()) PrintLogs({&daemon_}, &server_);
  }

  // Runs `args` on a thread: the test acts while the RPC waits. A jthread,
  // so that a failed ASSERT still waits for it.
  std::jthread Start(const std::vector<std::string>& args, Timed* out, const std::string& in = "") {
    return std::jthread([this, args, out, in] { *out = TimedCtl(daemon_, args, in); });
  }
  std::vector<std::string> LoginArgs() const {
    return {"--timeout", "20", "login", "alice", "--token-file", server_.token_file("alice")};
  }
  void Login() {
    const Timed login = TimedCtl(daemon_, LoginArgs());
    ASSERT_EQ(login.result.exit_code, 0) << login.result.err;
  }
  // The push tokens the server holds for alice ("" when none).
  std::string ServerPushTokens() {
    auto [code, body] = server_.Admin("GET", "/v1/users/alice/push");
    EXPECT_EQ(code, 200) << body;
    return body;
  }

  TempDir dir_;
  ServerProcess server_;
  FaultRelay relay_;
  DaemonProcess daemon_;
};

struct LoginFault {
  const char* name;
  FaultRelay::Hold hold;
  bool restart_before_release;  // the server is back when the request goes on
  bool drop;                    // the held bytes are dropped, not forwarded
};

void PrintTo(const LoginFault& f, std::ostream* os) { *os << f.name; }

// The request timeout is long here: a restart (slow under sanitizers) must
// fit into it for the back_in_time case, and the cases that lose the
// connection fail at once, whatever the timeout.
class LoginFaultTest : public ServerFaultsTest,
                       public ::testing::WithParamInterface<LoginFault> {
 protected:
  LoginFaultTest() : ServerFaultsTest(/*request_timeout_ms=*/8000) {}
};

// SIGKILL while a login is in flight: before the request reached the server,
// after the server handled it but before its answer arrived, or with the
// server back in time. The login answers within the request timeout, either
// AUTHENTICATED or with a clear error and LOGGED_OUT; then a login works.
TEST_P(LoginFaultTest, ServerKilledDuringLoginEndsInADefinedState) {
  const LoginFault& f = GetParam();
  relay_.Arm("POST /v1/auth", f.hold);
  Timed login;
  std::jthread rpc = Start(LoginArgs(), &login);
  ASSERT_TRUE(relay_.WaitHeld());
  server_.Kill();
  if (f.restart_before_release) {
    ASSERT_TRUE(server_.Start());
  }
  if (f.drop) {
    relay_.Drop();
  } else {
    relay_.Forward();
  }
  rpc.join();
  Note(absl::StrCat("login, ", f.name), login);

  EXPECT_LT(login.took, kAnswerBound);
  const std::string status = AliveStatus(daemon_);
  if (f.restart_before_release) {
    EXPECT_EQ(login.result.exit_code, 0) << login.result.err;
    EXPECT_THAT(status, HasSubstr("SESSION_STATE_AUTHENTICATED"));
    return;
  }
  EXPECT_EQ(login.result.exit_code, 1);
  EXPECT_THAT(login.result.err, HasSubstr("calls server")) << login.result.err;
  EXPECT_THAT(status, HasSubstr("SESSION_STATE_LOGGED_OUT"));
  ASSERT_TRUE(server_.Start());
  Login();
  EXPECT_THAT(AliveStatus(daemon_), HasSubstr("SESSION_STATE_AUTHENTICATED"));
}

INSTANTIATE_TEST_SUITE_P(
    Moments, LoginFaultTest,
    ::testing::Values(LoginFault{"request_lost", FaultRelay::Hold::kRequest, false, false},
                      LoginFault{"answer_lost", FaultRelay::Hold::kResponse, false, true},
                      LoginFault{"back_in_time", FaultRelay::Hold::kRequest, true, false}),
    [](const ::testing::TestParamInfo<LoginFault>& info) { return info.param.name; });

constexpr char kVoip[] = "https://push.example.com/up/faults-1";

// SIGKILL while logout's unregistration is in flight (the server removed the
// token but its answer never came): logout completes locally within the
// request timeout, the unregistration stays pending, and once the server is
// back it is retried until the server and the daemon agree.
TEST_F(ServerFaultsTest, ServerKilledDuringLogoutKeepsTheUnregistrationUntilItIsDone) {
  Login();
  ASSERT_EQ(daemon_.Ctl({"push", "register", "voip", kVoip}).exit_code, 0);
  ASSERT_THAT(ServerPushTokens(), HasSubstr(kVoip));

  relay_.Arm("DELETE /v1/push/voip", FaultRelay::Hold::kResponse);
  Timed logout;
  std::jthread rpc = Start({"--timeout", "20", "logout"}, &logout);
  ASSERT_TRUE(relay_.WaitHeld());
  server_.Kill();
  relay_.Drop();
  rpc.join();
  Note("logout, unregistration answer lost", logout);

  EXPECT_EQ(logout.result.exit_code, 0) << logout.result.err;
  EXPECT_THAT(logout.result.out, HasSubstr("retried in the background"));
  EXPECT_LT(logout.took, kAnswerBound);
  const std::string status = AliveStatus(daemon_);
  EXPECT_THAT(status, HasSubstr("SESSION_STATE_LOGGED_OUT"));
  EXPECT_THAT(status, Not(HasSubstr("alice")));
  EXPECT_THAT(daemon_.Ctl({"push", "list"}).out, HasSubstr("unregistration"));

  ASSERT_TRUE(server_.Start());
  EXPECT_TRUE(WaitFor([&] {
    return !absl::StrContains(daemon_.Ctl({"push", "list"}).out, "unregistration");
  }, absl::Seconds(15))) << daemon_.Ctl({"push", "list"}).out;
  EXPECT_THAT(ServerPushTokens(), Not(HasSubstr(kVoip)));
  AliveStatus(daemon_);
}

// --- Server slower than the request timeout ------------------------------------------------

// The server takes longer than the request timeout: the relay holds the
// request until the RPC has answered, then lets it through late (the
// server handles it; nobody is waiting for its answer any more).
class SlowServerTest : public ServerFaultsTest {
 protected:
  Timed SlowRpc(const std::string& request_prefix, const std::vector<std::string>& args) {
    relay_.Arm(request_prefix, FaultRelay::Hold::kRequest);
    Timed rpc;
    std::jthread t = Start(args, &rpc);
    EXPECT_TRUE(relay_.WaitHeld()) << request_prefix << " never came";
    t.join();
    relay_.Forward();
    Note(absl::StrCat(request_prefix, " held"), rpc);
    EXPECT_LT(rpc.took, kAnswerBound) << absl::StrJoin(args, " ");
    // It did wait for the server: the fault was in effect.
    EXPECT_GE(rpc.took, absl::Milliseconds(kRequestTimeoutMs)) << absl::StrJoin(args, " ");
    return rpc;
  }

  // A second device on the server directly, logged in as `user`, that calls
  // ring.
  DaemonProcess& Peer(const std::string& user) {
    std::filesystem::create_directories(dir_ / user);
    peer_ = std::make_unique<DaemonProcess>(dir_ / user, server_.url(), FaultDaemonArgs());
    EXPECT_TRUE(peer_->Start());
    EXPECT_EQ(peer_->Ctl({"init", "demo-app"}).exit_code, 0);
    EXPECT_EQ(peer_->Ctl({"login", user, "--token-file", server_.token_file(user)}).exit_code, 0);
    RegisterEndpoint(*peer_);
    return *peer_;
  }

  void TearDown() override {
    if (HasFailure() && peer_) PrintLogs({peer_.get()}, nullptr);
    ServerFaultsTest::TearDown();
  }

  std::unique_ptr<DaemonProcess> peer_;
};

TEST_F(SlowServerTest, LoginFailsWithinTheTimeoutAndALaterLoginWorks) {
  const Timed login = SlowRpc("POST /v1/auth", LoginArgs());
  EXPECT_EQ(login.result.exit_code, 1);
  EXPECT_THAT(login.result.err, HasSubstr("calls server"));
  EXPECT_THAT(AliveStatus(daemon_), HasSubstr("SESSION_STATE_LOGGED_OUT"));
  Login();
}

TEST_F(SlowServerTest, LogoutCompletesLocallyAndTheUnregistrationIsRetried) {
  Login();
  const Timed logout = SlowRpc("DELETE /v1/auth", {"--timeout", "20", "logout"});
  EXPECT_EQ(logout.result.exit_code, 0) << logout.result.err;
  EXPECT_THAT(AliveStatus(daemon_), HasSubstr("SESSION_STATE_LOGGED_OUT"));
  EXPECT_TRUE(WaitFor([&] {
    return !absl::StrContains(daemon_.Ctl({"push", "list"}).out, "unregistration");
  }, absl::Seconds(15))) << daemon_.Ctl({"push", "list"}).out;
}

TEST_F(SlowServerTest, PushRegisterAnswersWithinTheTimeoutAndEndsRegistered) {
  Login();
  const Timed reg = SlowRpc("POST /v1/push/voip", {"--timeout", "20", "push", "register",
                                                   "voip", kVoip});
  // Kept as this device's token, not yet confirmed, and registered in the
  // background until the daemon and the server agree.
  EXPECT_EQ(reg.result.exit_code, 0) << reg.result.err;
  EXPECT_THAT(reg.result.out, HasSubstr("PENDING"));
  EXPECT_TRUE(WaitFor([&] {
    return absl::StrContains(daemon_.Ctl({"push", "list"}).out, "REGISTERED") &&
           absl::StrContains(ServerPushTokens(), kVoip);
  }, absl::Seconds(15))) << daemon_.Ctl({"push", "list"}).out;
  AliveStatus(daemon_);
}

// History falls back to the daemon's cache when the server is too slow.
TEST_F(SlowServerTest, HistoryAnswersFromTheCacheWithinTheTimeout) {
  Login();
  const Timed history = SlowRpc("GET /v1/call_logs", {"--timeout", "20", "history"});
  EXPECT_EQ(history.result.exit_code, 0) << history.result.err;
  AliveStatus(daemon_);
}

TEST_F(SlowServerTest, DialFailsWithinTheTimeoutAndLeavesNoCall) {
  Login();
  Peer("bob");
  const Timed dial = SlowRpc("GET /v1/ws", {"--timeout", "20", "dial", "bob"});
  EXPECT_EQ(dial.result.exit_code, 1) << dial.result.out;
  EXPECT_THAT(dial.result.err, HasSubstr("within 2s"));
  EXPECT_TRUE(WaitFor([&] {
    return !absl::StrContains(daemon_.Ctl({"--json", "calls"}).out, "CALL_STATE_");
  })) << daemon_.Ctl({"calls"}).out;
  AliveStatus(daemon_);
}

TEST_F(SlowServerTest, AcceptFailsWithinTheTimeoutAndLeavesNoStuckCall) {
  Login();
  RegisterEndpoint(daemon_);
  DaemonProcess& bob = Peer("bob");
  Watcher watch(daemon_, dir_.path());
  CommandResult dial = bob.Ctl({"--json", "dial", "alice"});
  ASSERT_EQ(dial.exit_code, 0) << dial.err;
  const std::string call = JsonField(dial.out, "call_id");
  ASSERT_TRUE(watch.WaitForLine("\"ringing\""));

  const Timed accept = SlowRpc("GET /v1/ws", {"--timeout", "20", "accept", call});
  EXPECT_EQ(accept.result.exit_code, 1) << accept.result.out;
  EXPECT_THAT(accept.result.err, HasSubstr("within 2s"));
  EXPECT_TRUE(watch.WaitForLine("\"ended\"")) << "the call ends rather than staying stuck";
  AliveStatus(daemon_);
}

// --- Server killed during a call -------------------------------------------------------------

// Same devices as SlowServerTest: alice on the relay, bob on the server.
class CallFaultsTest : public SlowServerTest {
 protected:
  void SetUp() override {
    SlowServerTest::SetUp();
    Login();
    RegisterEndpoint(daemon_);
    Peer("bob");
  }
  // alice dials bob; the call id once bob's watcher saw it ring.
  std::string Dial(Watcher& bob_watch) {
    CommandResult dial = daemon_.Ctl({"--json", "dial", "bob"});
    EXPECT_EQ(dial.exit_code, 0) << dial.err;
    EXPECT_TRUE(bob_watch.WaitForLine("\"ringing\"")) << bob_watch.stderr_text();
    return JsonField(dial.out, "call_id");
  }
};

// SIGKILL (not a clean stop) while the call is connected, back within the
// reconnect window: both sides reconnect, the call goes on and ends
// normally.
TEST_F(CallFaultsTest, KilledMidCallAndBackInTimeTheCallGoesOn) {
  Watcher alice_watch(daemon_, dir_.path());
  Watcher bob_watch(*peer_, dir_.path());
  const std::string call = Dial(bob_watch);
  ASSERT_EQ(peer_->Ctl({"accept", call}).exit_code, 0);
  ASSERT_TRUE(alice_watch.WaitForLine("\"connected\""));

  server_.Kill();
  ASSERT_TRUE(server_.Start());
  EXPECT_TRUE(alice_watch.WaitForLine("\"reconnected\"", absl::Seconds(15)));
  EXPECT_TRUE(bob_watch.WaitForLine("\"reconnected\"", absl::Seconds(15)));
  EXPECT_THAT(AliveStatus(daemon_), HasSubstr("CALL_STATE_CONNECTED"));

  const Timed end = TimedCtl(daemon_, {"--timeout", "20", "end", call});
  EXPECT_EQ(end.result.exit_code, 0) << end.result.err;
  EXPECT_LT(end.took, kAnswerBound);
  EXPECT_TRUE(bob_watch.WaitForLine("END_RESULT_COMPLETED"));
  EXPECT_TRUE(alice_watch.WaitForLine("END_RESULT_COMPLETED"));
}

// SIGKILL while the call rings, restarted before the callee accepts: the
// server recovers the ringing call from its database, and the accept
// connects it within its deadline.
TEST_F(CallFaultsTest, KilledWhileRingingTheCallIsRecoveredAndAccepted) {
  Watcher bob_watch(*peer_, dir_.path());
  const std::string call = Dial(bob_watch);
  server_.Kill();
  ASSERT_TRUE(server_.Start());
  const Timed accept = TimedCtl(*peer_, {"--timeout", "20", "accept", call});
  Note("accept after a restart while ringing", accept);
  EXPECT_LT(accept.took, kAnswerBound);
  EXPECT_EQ(accept.result.exit_code, 0) << accept.result.err;
  EXPECT_TRUE(bob_watch.WaitForLine("\"connected\""));
  // The caller's WebSocket was cut too: it resumes within the window.
  EXPECT_TRUE(WaitFor([&] {
    return absl::StrContains(AliveStatus(daemon_), "CALL_STATE_CONNECTED");
  })) << AliveStatus(daemon_);
  ASSERT_EQ(peer_->Ctl({"end", call}).exit_code, 0);
  EXPECT_TRUE(bob_watch.WaitForLine("END_RESULT_COMPLETED"));
  AliveStatus(*peer_);
}

// --- Test certificates ------------------------------------------------------------------

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* x) const { X509_free(x); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

// A key and its certificate, written as PEM files.
struct Issued {
  KeyPtr key;
  CertPtr cert;
  std::string cert_file;
  std::string key_file;
};

struct CertSpec {
  std::string common_name;
  std::string subject_alt_names;  // "IP:127.0.0.1,DNS:localhost"; empty for a CA
  absl::Duration not_before = -absl::Hours(1);  // from now
  absl::Duration not_after = absl::Hours(24);
};

// Makes a P-256 key and a certificate for `spec` (a CA when it names no
// host), signed by `issuer` (by itself when null), and writes
// `dir`/`name`.crt and .key.
Issued Issue(const std::string& dir, const std::string& name, const CertSpec& spec,
             const Issued* issuer) {
  Issued out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  static std::atomic<long> serial{1};
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), absl::ToInt64Seconds(spec.not_before));
  X509_gmtime_adj(X509_getm_notAfter(x), absl::ToInt64Seconds(spec.not_after));
  X509_set_pubkey(x, out.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* signer = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(signer));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    EXPECT_NE(ext, nullptr) << value;
    if (ext == nullptr) return;
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  };
  if (spec.subject_alt_names.empty()) {  // a CA
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {  // a server, signed by `issuer` or by itself
    add(NID_basic_constraints, "CA:FALSE");
    add(NID_ext_key_usage, "serverAuth");
  }
  if (!spec.subject_alt_names.empty()) add(NID_subject_alt_name, spec.subject_alt_names);
  EXPECT_GT(X509_sign(x, issuer ? issuer->key.get() : out.key.get(), EVP_sha256()), 0);

  out.cert_file = absl::StrCat(dir, "/", name, ".crt");
  out.key_file = absl::StrCat(dir, "/", name, ".key");
  FILE* f = std::fopen(out.cert_file.c_str(), "w");
  EXPECT_TRUE(f != nullptr && PEM_write_X509(f, x) == 1);
  if (f) std::fclose(f);
  f = std::fopen(out.key_file.c_str(), "w");
  EXPECT_TRUE(f != nullptr &&
              PEM_write_PrivateKey(f, out.key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  if (f) std::fclose(f);
  return out;
}

// --- TLS ------------------------------------------------------------------------------------

// A CA that callsd is told about (server.ca_file), one it is not, and the
// server certificates the tests serve.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_ / "pki";
    std::filesystem::create_directories(pki_);
    ca_ = Issue(pki_, "ca", {"callsd test CA", ""}, nullptr);
    other_ca_ = Issue(pki_, "other-ca", {"some other CA", ""}, nullptr);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::vector<const DaemonProcess*> daemons;
      for (const auto& d : daemons_) daemons.push_back(d.get());
      PrintLogs(daemons, server_.get());
    }
  }

  // calls-server serving HTTPS and WSS with `cert`.
  void StartServer(const Issued& cert) {
    server_ = std::make_unique<ServerProcess>(
        dir_.path(),
        std::vector<std::string>{"--tls_cert=" + cert.cert_file, "--tls_key=" + cert.key_file});
    ASSERT_TRUE(server_->running());
  }
  std::string HttpsUrl() const { return absl::StrCat("https://127.0.0.1:", server_->port()); }

  // A callsd trusting the test CA, with the built-in push endpoint.
  DaemonProcess& StartDaemon(const std::string& name, std::vector<std::string> extra = {}) {
    extra.push_back("--set=server.ca_file = \"" + ca_.cert_file + "\"");
    extra.push_back("--set=push.endpoint = \"127.0.0.1:0\"");
    extra.push_back("--set=server.request_timeout_ms = 2000");
    std::filesystem::create_directories(dir_ / name);
    daemons_.push_back(std::make_unique<DaemonProcess>(dir_ / name, HttpsUrl(), std::move(extra)));
    DaemonProcess& d = *daemons_.back();
    EXPECT_TRUE(d.Start());
    EXPECT_EQ(d.Ctl({"init", "demo-app"}).exit_code, 0);
    return d;
  }

  Timed Login(DaemonProcess& d, const std::string& user) {
    return TimedCtl(d, {"--timeout", "20", "login", user, "--token-file",
                        server_->token_file(user)});
  }

  // Logs in and registers the push endpoint, as harness Device does.
  void LoginWithEndpoint(DaemonProcess& d, const std::string& user) {
    Timed login = Login(d, user);
    ASSERT_EQ(login.result.exit_code, 0) << login.result.err;
    const std::string endpoint = JsonField(d.Ctl({"--json", "status"}).out, "push_endpoint_url");
    ASSERT_FALSE(endpoint.empty());
    CommandResult reg = d.Ctl({"push", "register", "voip", endpoint});
    ASSERT_EQ(reg.exit_code, 0) << reg.err;
  }

  TempDir dir_;
  std::string pki_;
  Issued ca_;
  Issued other_ca_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<std::unique_ptr<DaemonProcess>> daemons_;
};

constexpr char kLoopbackNames[] = "IP:127.0.0.1,DNS:localhost";

// A certificate from the CA in server.ca_file: login, push registration and
// a whole call work over https and wss.
TEST_F(TlsTest, ValidCertificateCarriesLoginAndACallOverHttpsAndWss) {
  const Issued cert = Issue(pki_, "server", {"calls-server", kLoopbackNames}, &ca_);
  StartServer(cert);
  DaemonProcess& alice = StartDaemon("a");
  DaemonProcess& bob = StartDaemon("b");
  LoginWithEndpoint(alice, "alice");
  LoginWithEndpoint(bob, "bob");
  EXPECT_THAT(AliveStatus(alice), HasSubstr("SESSION_STATE_AUTHENTICATED"));

  Watcher alice_watch(alice, dir_.path());
  Watcher bob_watch(bob, dir_.path());
  CommandResult dial = alice.Ctl({"--json", "dial", "bob"});
  ASSERT_EQ(dial.exit_code, 0) << dial.err;
  const std::string call = JsonField(dial.out, "call_id");
  ASSERT_TRUE(bob_watch.WaitForLine("\"ringing\"")) << "the push came over the TLS server";
  CommandResult accept = bob.Ctl({"accept", call});
  ASSERT_EQ(accept.exit_code, 0) << accept.err;
  EXPECT_TRUE(alice_watch.WaitForLine("\"connected\"")) << "both sides over wss";
  EXPECT_TRUE(bob_watch.WaitForLine("\"connected\""));
  ASSERT_EQ(alice.Ctl({"end", call}).exit_code, 0);
  EXPECT_TRUE(bob_watch.WaitForLine("END_RESULT_COMPLETED"));
  EXPECT_THAT(alice.log(), Not(HasSubstr("verification is OFF")));
}

struct BadCert {
  const char* name;
  CertSpec spec;
  bool from_other_ca;
  const char* expect;  // OpenSSL's reason, in the error
};

void PrintTo(const BadCert& c, std::ostream* os) { *os << c.name; }

class BadCertTest : public TlsTest, public ::testing::WithParamInterface<BadCert> {};

TEST_P(BadCertTest, LoginFailsUnavailableNamingTheProblemAndTheDaemonKeepsRunning) {
  const BadCert& bad = GetParam();
  const Issued cert = Issue(pki_, "server", bad.spec, bad.from_other_ca ? &other_ca_ : &ca_);
  StartServer(cert);
  DaemonProcess& d = StartDaemon("d");
  const Timed login = Login(d, "alice");
  EXPECT_EQ(login.result.exit_code, 1) << login.result.out;
  EXPECT_LT(login.took, absl::Seconds(10)) << "bounded by the request timeout";
  EXPECT_THAT(login.result.err, HasSubstr("TLS certificate verification of 127.0.0.1:"));
  EXPECT_THAT(login.result.err, HasSubstr(bad.expect));
  // callsctl prints the message; the code is in the daemon's log line.
  EXPECT_THAT(d.log(), HasSubstr("UNAVAILABLE: calls server unavailable: POST /v1/auth: TLS "
                                 "certificate verification"));
  EXPECT_THAT(AliveStatus(d), HasSubstr("SESSION_STATE_LOGGED_OUT"));
  // The server never saw a request.
  EXPECT_THAT(ReadFile(server_->log_path()), Not(HasSubstr("POST /v1/auth")));
  EXPECT_EQ(d.Stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Certificates, BadCertTest,
    ::testing::Values(
        BadCert{"unknown_ca", {"calls-server", kLoopbackNames}, true,
                "unable to get local issuer certificate"},
        BadCert{"wrong_host", {"calls-server", "DNS:calls.wrong.example"}, false,
                "mismatch"},
        BadCert{"expired",
                {"calls-server", kLoopbackNames, -absl::Hours(48), -absl::Hours(24)}, false,
                "certificate has expired"}),
    [](const ::testing::TestParamInfo<BadCert>& info) { return info.param.name; });

// server.tls_verify = false accepts a self-signed server (on loopback, where
// the one key is enough) and says so loudly; without it the same server is
// refused.
TEST_F(TlsTest, UnverifiedTlsIsExplicitAndLoud) {
  const Issued self_signed = Issue(pki_, "self", {"calls-server", kLoopbackNames}, nullptr);
  StartServer(self_signed);

  DaemonProcess& strict = StartDaemon("strict");
  const Timed refused = Login(strict, "alice");
  EXPECT_EQ(refused.result.exit_code, 1);
  EXPECT_THAT(refused.result.err, HasSubstr("self-signed certificate"));
  EXPECT_THAT(strict.log(), Not(HasSubstr("verification is OFF")));

  DaemonProcess& lax = StartDaemon("lax", {"--set=server.tls_verify = false"});
  EXPECT_THAT(lax.log(), HasSubstr("server.tls_verify = false"));
  const Timed accepted = Login(lax, "alice");
  ASSERT_EQ(accepted.result.exit_code, 0) << accepted.result.err;
  EXPECT_THAT(AliveStatus(lax), HasSubstr("SESSION_STATE_AUTHENTICATED"));
  EXPECT_THAT(lax.log(), HasSubstr("TLS certificate verification is OFF for the connection to "
                                   "127.0.0.1:"));
}

// For a host that is not loopback, server.tls_verify = false alone stops
// callsd at start, naming the key; with server.allow_unverified_tls too it
// starts, with the WARNING in its log.
TEST(UnverifiedTlsStartupTest, RemoteHostNeedsTheSecondKey) {
  TempDir dir;
  ProcessOptions o;
  o.argv = {Binary("callsd"), "--server_url=https://calls.example.com",
            "--socket=" + (dir / "s.sock"), "--state_dir=" + (dir / "st"),
            "--set=server.tls_verify = false"};
  CommandResult refused = RunCommand(o, absl::Seconds(20));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("server.tls_verify: false is refused for calls.example.com"));
  EXPECT_THAT(refused.err, HasSubstr("server.allow_unverified_tls"));

  DaemonProcess daemon(dir.path(), "https://calls.example.com",
                       {"--set=server.tls_verify = false\nserver.allow_unverified_tls = true"});
  ASSERT_TRUE(daemon.Start());
  EXPECT_THAT(daemon.log(), HasSubstr("server.tls_verify = false"));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace callsd::itest
