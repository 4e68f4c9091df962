// Bad input at the edges of callsd (issue 2, "Bad input"): a calls server
// that misbehaves, callers that go away, and unusable config or state at
// start. The daemon must answer every caller in bounded time and never
// crash.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;

// A TCP listener on loopback that answers every connection with canned
// bytes (or nothing): a calls server gone wrong.
class BadServer {
 public:
  explicit BadServer(std::string reply, bool close_after = true, bool silent = false)
      : reply_(std::move(reply)), close_after_(close_after), silent_(silent) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(listen(fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~BadServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    for (int c : held_) close(c);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      // Read the request head (enough for these tests), then misbehave.
      char buf[4096];
      pollfd r{c, POLLIN, 0};
      if (poll(&r, 1, 1000) > 0) (void)read(c, buf, sizeof(buf));
      if (silent_) {
        held_.push_back(c);  // never answers, never closes
        continue;
      }
      (void)write(c, reply_.data(), reply_.size());
      if (close_after_) close(c); else held_.push_back(c);
    }
  }

  std::string reply_;
  bool close_after_;
  bool silent_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::vector<int> held_;
  std::thread thread_;
};

struct Misbehaviour {
  const char* name;
  std::string reply;
  bool close_after;
  bool silent;
};

class BadServerTest : public ::testing::TestWithParam<Misbehaviour> {};

TEST_P(BadServerTest, LoginFailsUnavailableInBoundedTimeAndDaemonSurvives) {
  const Misbehaviour& m = GetParam();
  BadServer bad(m.reply, m.close_after, m.silent);
  TempDir dir;
  DaemonProcess daemon(dir.path(), bad.url(), {"--set=server.request_timeout_ms = 800"});
  ASSERT_TRUE(daemon.Start());
  ASSERT_EQ(daemon.Ctl({"init", "demo-app"}).exit_code, 0);

  const absl::Time start = absl::Now();
  CommandResult login = daemon.Ctl({"login", "alice", "--token-stdin"}, "some-token\n");
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(login.exit_code, 1) << login.out;
  EXPECT_LT(took, absl::Seconds(5)) << "bounded by the request timeout";
  EXPECT_GE(bad.connections(), 1);
  EXPECT_THAT(login.err, HasSubstr("calls server")) << login.err;
  EXPECT_THAT(login.err, ::testing::Not(HasSubstr("some-token")));

  CommandResult status = daemon.Ctl({"--json", "status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.out, HasSubstr("SESSION_STATE_LOGGED_OUT"));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
}

INSTANTIATE_TEST_SUITE_P(
    Replies, BadServerTest,
    ::testing::Values(
        Misbehaviour{"garbage", "this is not HTTP at all\r\n\r\n", true, false},
        Misbehaviour{"not_json",
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "9\r\nConnection: close\r\n\r\n{{{{{{{{{",
                     true, false},
        Misbehaviour{"status_500",
                     "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: "
                     "close\r\n\r\n",
                     true, false},
        Misbehaviour{"truncated",
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "500\r\n\r\n{\"session_key\": \"abc",
                     true, false},
        Misbehaviour{"closed_at_once", "", true, false},
        Misbehaviour{"silent", "", false, true}),
    [](const ::testing::TestParamInfo<Misbehaviour>& info) { return info.param.name; });

TEST(RobustnessTest, StoredUserAgainstABadServerKeepsRetryingWithoutCrashing) {
  TempDir dir;
  ServerProcess server(dir.path());
  DaemonProcess daemon(dir.path(), server.url(),
                       {"--set=session.retry_initial_ms = 50\nsession.retry_max_ms = 200\n"
                        "server.request_timeout_ms = 500"});
  ASSERT_TRUE(daemon.Start());
  ASSERT_EQ(daemon.Ctl({"init", "demo-app"}).exit_code, 0);
  ASSERT_EQ(daemon.Ctl({"login", "alice", "--token-file", server.token_file("alice")}).exit_code,
            0);
  EXPECT_EQ(daemon.Stop(), 0);

  BadServer bad("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", true, false);
  daemon.set_server_url(bad.url());
  ASSERT_TRUE(daemon.Start());
  EXPECT_TRUE(WaitFor([&] { return bad.connections() >= 3; }))
      << "retries with backoff: " << bad.connections();
  CommandResult status = daemon.Ctl({"--json", "status"});
  EXPECT_THAT(status.out, HasSubstr("SESSION_STATE_AUTHENTICATING"));
  EXPECT_THAT(status.out, HasSubstr("502"));
  // Logout still works, locally, while the server is bad.
  CommandResult logout = daemon.Ctl({"logout"});
  EXPECT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_THAT(daemon.Ctl({"status"}).out, HasSubstr("LOGGED_OUT"));
  EXPECT_EQ(daemon.Stop(), 0);
}

TEST(RobustnessTest, CallerThatGoesAwayMidCallCostsNothing) {
  BadServer silent("", false, true);
  TempDir dir;
  DaemonProcess daemon(dir.path(), silent.url(), {"--set=server.request_timeout_ms = 1500"});
  ASSERT_TRUE(daemon.Start());
  ASSERT_EQ(daemon.Ctl({"init", "demo-app"}).exit_code, 0);
  // Two callers give up (deadline) while the daemon waits for the server.
  CommandResult gave_up = daemon.Ctl({"--timeout", "0.3", "login", "alice", "--token-stdin"}, "t\n");
  EXPECT_EQ(gave_up.exit_code, 1);
  ProcessOptions o;
  o.argv = {Binary("callsctl"), "--socket=" + daemon.socket(), "watch"};
  auto watcher = Process::Start(o);
  ASSERT_TRUE(watcher.ok());
  (*watcher)->Kill();
  // The daemon still answers, and the abandoned login finishes on its own.
  EXPECT_EQ(daemon.Ctl({"status"}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] {
    CommandResult again = daemon.Ctl({"--timeout", "5", "login", "alice", "--token-stdin"}, "t\n");
    return absl::StrContains(again.err, "calls server");
  }, absl::Seconds(15)));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.log();
}

// --- Unusable config or state at start ----------------------------------------------

CommandResult StartDaemon(const std::vector<std::string>& args) {
  ProcessOptions o;
  o.argv = {Binary("callsd")};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  return RunCommand(o, absl::Seconds(20));
}

TEST(StartupTest, BadConfigFailsWithOneLineNamingTheKey) {
  TempDir dir;
  WriteFile(dir / "callsd.conf", "[server]\nurl = \"http://127.0.0.1:1\"\nrequest_timeout = 5\n");
  CommandResult r = StartDaemon({"--config=" + (dir / "callsd.conf"),
                                 "--socket=" + (dir / "s.sock"), "--state_dir=" + (dir / "st")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("server.request_timeout: unknown key"));
  EXPECT_THAT(r.err, HasSubstr(dir / "callsd.conf"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(StartupTest, MissingServerUrlIsNamed) {
  TempDir dir;
  CommandResult r = StartDaemon({"--socket=" + (dir / "s.sock"), "--state_dir=" + (dir / "st")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("server.url"));
}

TEST(StartupTest, CorruptDatabaseIsNamedAndKept) {
  TempDir dir;
  std::filesystem::create_directories(dir / "st");
  std::filesystem::permissions(dir / "st", std::filesystem::perms::owner_all);
  WriteFile(dir / "st/callsd.db", std::string(4096, '\x42'));
  CommandResult r = StartDaemon({"--server_url=http://127.0.0.1:1", "--socket=" + (dir / "s.sock"),
                                 "--state_dir=" + (dir / "st")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir / "st/callsd.db"));
  EXPECT_EQ(ReadFile(dir / "st/callsd.db"), std::string(4096, '\x42')) << "never start over";
}

TEST(StartupTest, UncreatableStateDirectoryIsNamed) {
  TempDir dir;
  WriteFile(dir / "file", "x");
  CommandResult r = StartDaemon({"--server_url=http://127.0.0.1:1", "--socket=" + (dir / "s.sock"),
                                 "--state_dir=" + (dir / "file/state")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir / "file"));
}

TEST(StartupTest, PlainHttpToARemoteHostIsRefused) {
  TempDir dir;
  CommandResult r = StartDaemon({"--server_url=http://calls.example.com",
                                 "--socket=" + (dir / "s.sock"), "--state_dir=" + (dir / "st")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("server.url"));
  EXPECT_THAT(r.err, HasSubstr("allow_insecure_http"));
}

}  // namespace
}  // namespace callsd::itest
