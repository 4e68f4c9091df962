// The daemon as a systemd service, without systemd: sd_notify READY/STATUS/
// WATCHDOG/STOPPING to a test NOTIFY_SOCKET, and provisioning from a token
// file or a systemd credential.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;

// A datagram socket that records what sd_notify sends. It is drained all
// the time, as systemd does: sd_notify blocks the daemon once the socket's
// queue (net.unix.max_dgram_qlen, 10 here) is full.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    reader_ = std::thread([this] { Drain(); });
  }
  ~NotifySocket() {
    shutdown(fd_, SHUT_RDWR);  // wakes the reader's recv
    reader_.join();
    close(fd_);
  }
  const std::string& path() const { return path_; }

  bool WaitFor(const std::string& needle, absl::Duration timeout = absl::Seconds(10)) {
    return itest::WaitFor([&] { return Count(needle) > 0; }, timeout);
  }
  int Count(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const std::string& m : messages_) {
      if (absl::StrContains(m, needle)) ++n;
    }
    return n;
  }

 private:
  void Drain() {
    char buf[4096];
    for (;;) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      messages_.emplace_back(buf, n);
    }
  }

  std::string path_;
  int fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::vector<std::string> messages_;
};

TEST(SystemdTest, NotifiesReadyStatusWatchdogAndStopping) {
  TempDir dir;
  ServerProcess server(dir.path());
  NotifySocket notify(dir / "notify");
  DaemonProcess daemon(dir.path(), server.url());
  daemon.env()["NOTIFY_SOCKET"] = notify.path();
  daemon.env()["WATCHDOG_USEC"] = "200000";  // 0.2 s: pings every 0.1 s
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(notify.WaitFor("READY=1"));
  EXPECT_GT(notify.Count("STATUS=not initialized"), 0);
  ASSERT_EQ(daemon.Ctl({"init", "demo-app"}).exit_code, 0);
  ASSERT_EQ(daemon.Ctl({"login", "alice", "--token-file", server.token_file("alice")}).exit_code,
            0);
  EXPECT_TRUE(notify.WaitFor("STATUS=logged in as alice"));
  EXPECT_TRUE(WaitFor([&] { return notify.Count("WATCHDOG=1") >= 3; }))
      << "the engine pings the watchdog";
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_TRUE(notify.WaitFor("STOPPING=1"));
}

TEST(SystemdTest, NoWatchdogPingsWithoutAWatchdog) {
  TempDir dir;
  ServerProcess server(dir.path());
  NotifySocket notify(dir / "notify");
  DaemonProcess daemon(dir.path(), server.url());
  daemon.env()["NOTIFY_SOCKET"] = notify.path();
  ASSERT_TRUE(daemon.Start());
  ASSERT_TRUE(notify.WaitFor("READY=1"));
  // Idle means no periodic wake-ups: a status round trip later, still none.
  ASSERT_EQ(daemon.Ctl({"status"}).exit_code, 0);
  EXPECT_EQ(notify.Count("WATCHDOG=1"), 0);
}

TEST(SystemdTest, ProvisionsAppAndUserFromACredential) {
  TempDir dir;
  ServerProcess server(dir.path());
  std::filesystem::create_directories(dir / "creds");
  WriteFile(dir / "creds/calls-token", server.token("alice") + "\n");
  DaemonProcess daemon(dir.path(), server.url(),
                       {"--set=provision.app_id = \"demo-app\"\nprovision.user_id = \"alice\"\n"
                        "provision.access_token_file = \"credential:calls-token\""});
  daemon.env()["CREDENTIALS_DIRECTORY"] = dir / "creds";
  ASSERT_TRUE(daemon.Start());
  EXPECT_TRUE(WaitFor([&] {
    return absl::StrContains(daemon.Ctl({"--json", "status"}).out, "SESSION_STATE_AUTHENTICATED");
  }));
  EXPECT_THAT(daemon.Ctl({"status"}).out, HasSubstr("alice"));
  EXPECT_THAT(daemon.log(), ::testing::Not(HasSubstr(server.token("alice"))));
}

TEST(SystemdTest, MissingCredentialIsAClearStartError) {
  TempDir dir;
  ProcessOptions o;
  o.argv = {Binary("callsd"), "--socket=" + (dir / "s.sock"), "--state_dir=" + (dir / "st"),
            "--server_url=http://127.0.0.1:9",
            "--set=provision.app_id = \"demo-app\"\nprovision.user_id = \"alice\"\n"
            "provision.access_token_file = \"credential:calls-token\""};
  o.env = {{"CREDENTIALS_DIRECTORY", ""}};
  CommandResult r = RunCommand(o);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("CREDENTIALS_DIRECTORY"));
}

}  // namespace
}  // namespace callsd::itest
