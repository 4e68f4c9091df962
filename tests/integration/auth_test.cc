// Authentication end to end (issue 2), with the real calls-server, callsd
// and callsctl as processes.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AuthTest : public DaemonTest {
 protected:
};

TEST_F(AuthTest, NotInitializedThenLoginNeedsInit) {
  EXPECT_THAT(Ctl({"status"}).out, HasSubstr("NOT_INITIALIZED"));
  CommandResult login = Ctl({"login", "alice", "--token-file", server_.token_file("alice")});
  EXPECT_EQ(login.exit_code, 1);
  EXPECT_THAT(login.err, HasSubstr("1800302"));
  EXPECT_THAT(login.err, HasSubstr("callsctl init"));
}

TEST_F(AuthTest, InitLoginStatusLogoutWithNothingLeftOpen) {
  InitAndLogin();
  // The login's HTTP connection is gone: no socket to the server while idle.
  EXPECT_TRUE(WaitFor([&] { return CountTcpConnections(daemon_.pid(), server_.port()) == 0; }))
      << CountTcpConnections(daemon_.pid(), server_.port()) << " connections stay open";

  const std::string json = StatusJson();
  EXPECT_THAT(json, HasSubstr("\"app_id\": \"demo-app\""));
  EXPECT_THAT(json, HasSubstr("\"user_id\": \"alice\""));
  EXPECT_THAT(json, HasSubstr("SESSION_STATE_AUTHENTICATED"));
  EXPECT_THAT(json, HasSubstr("TOKEN_KIND_ACCESS_TOKEN"));

  // The session key is live on the server until logout.
  const std::string key = daemon_.StoredSessionKey();
  ASSERT_FALSE(key.empty());
  auto probe = [&] {
    return server_.Client("DELETE", "/v1/push/voip",
                          {{"App-Id", "demo-app"}, {"Session-Key", key}});
  };
  EXPECT_EQ(probe().first, 200) << probe().second;

  CommandResult logout = Ctl({"logout"});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_THAT(logout.out, HasSubstr("LOGGED_OUT"));
  auto [code, body] = probe();
  EXPECT_EQ(code, 400) << body;
  EXPECT_THAT(body, HasSubstr("400302")) << "the server must consider the key dead";

  const std::string after = StatusJson();
  EXPECT_THAT(after, HasSubstr("SESSION_STATE_LOGGED_OUT"));
  EXPECT_THAT(after, Not(HasSubstr("alice")));
  EXPECT_TRUE(daemon_.StoredSessionKey().empty());
}

TEST_F(AuthTest, WatchStreamsSnapshotThenEveryChange) {
  Watcher watcher(daemon_, dir_.path());
  InitAndLogin();
  ASSERT_TRUE(watcher.WaitForLine("SESSION_STATE_AUTHENTICATED")) << watcher.stderr_text();
  ASSERT_EQ(Ctl({"logout"}).exit_code, 0);
  ASSERT_TRUE(watcher.WaitForLine("SESSION_STATE_LOGGED_OUT"));
  std::vector<std::string> lines = watcher.Lines();
  ASSERT_GE(lines.size(), 5u);
  EXPECT_THAT(lines[0], HasSubstr("\"snapshot\""));
  // Snapshot, app changed, LOGGED_OUT, AUTHENTICATING, AUTHENTICATED, LOGGED_OUT.
  std::vector<std::string> order;
  for (const std::string& l : lines) {
    for (const char* s : {"\"app_changed\"", "\"state\":\"SESSION_STATE_LOGGED_OUT\"",
                          "\"state\":\"SESSION_STATE_AUTHENTICATING\"",
                          "\"state\":\"SESSION_STATE_AUTHENTICATED\""}) {
      if (absl::StrContains(l, s)) order.push_back(s);
    }
  }
  EXPECT_THAT(order, ::testing::ElementsAre("\"app_changed\"",
                                            "\"state\":\"SESSION_STATE_LOGGED_OUT\"",
                                            "\"state\":\"SESSION_STATE_AUTHENTICATING\"",
                                            "\"state\":\"SESSION_STATE_AUTHENTICATED\"",
                                            "\"state\":\"SESSION_STATE_LOGGED_OUT\""));
  // Sequence numbers grow by one from the snapshot's.
  std::vector<int> seqs;
  for (const std::string& l : lines) {
    const size_t at = l.find("\"seq\":\"");
    ASSERT_NE(at, std::string::npos) << l;
    seqs.push_back(std::stoi(l.substr(at + 7)));
  }
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1) << lines[i];
}

TEST_F(AuthTest, RestartReauthenticatesFromTheStore) {
  InitAndLogin();
  const std::string old_key = daemon_.StoredSessionKey();
  EXPECT_EQ(daemon_.Stop(), 0);
  ASSERT_TRUE(daemon_.Start());
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(StatusJson(), "AUTHENTICATED\""); }))
      << StatusJson();
  EXPECT_THAT(StatusJson(), HasSubstr("\"user_id\": \"alice\""));
  EXPECT_NE(daemon_.StoredSessionKey(), old_key) << "a restart authenticates anew";
}

TEST_F(AuthTest, RestartWhileServerIsDownKeepsServingAndCompletesLater) {
  InitAndLogin();
  EXPECT_EQ(daemon_.Stop(), 0);
  server_.Stop();
  ASSERT_TRUE(daemon_.Start());
  // Serving while the server is away: AUTHENTICATING with the reason.
  const std::string waiting = StatusJson();
  EXPECT_THAT(waiting, HasSubstr("SESSION_STATE_AUTHENTICATING"));
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(StatusJson(), "next_retry_at"); }));
  EXPECT_THAT(Ctl({"status"}).out, HasSubstr("alice"));
  ASSERT_TRUE(server_.Start());
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(StatusJson(), "AUTHENTICATED\""); },
                      absl::Seconds(15)))
      << StatusJson();
}

TEST_F(AuthTest, InitWithOtherAppWipesAndSameAppChangesNothing) {
  InitAndLogin();
  CommandResult same = Ctl({"init", "demo-app"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_THAT(StatusJson(), HasSubstr("AUTHENTICATED\""));
  EXPECT_FALSE(daemon_.StoredSessionKey().empty());

  CommandResult other = Ctl({"init", "other-app"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  const std::string json = StatusJson();
  EXPECT_THAT(json, HasSubstr("\"app_id\": \"other-app\""));
  EXPECT_THAT(json, HasSubstr("SESSION_STATE_LOGGED_OUT"));
  EXPECT_THAT(json, Not(HasSubstr("alice")));
  EXPECT_TRUE(daemon_.StoredSessionKey().empty());
  // Persisted: a restart comes back logged out in the new app.
  EXPECT_EQ(daemon_.Stop(), 0);
  ASSERT_TRUE(daemon_.Start());
  EXPECT_THAT(StatusJson(), HasSubstr("\"app_id\": \"other-app\""));
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_LOGGED_OUT"));
}

TEST_F(AuthTest, WrongTokenShowsServerCode) {
  ASSERT_EQ(Ctl({"init", "demo-app"}).exit_code, 0);
  CommandResult login = Ctl({"login", "alice", "--token-stdin"}, "not-the-token\n");
  EXPECT_EQ(login.exit_code, 1);
  EXPECT_THAT(login.err, HasSubstr("400302"));
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_LOGGED_OUT"));
  // Bob's token for alice is just as wrong.
  login = Ctl({"login", "alice", "--token-file", server_.token_file("bob")});
  EXPECT_THAT(login.err, HasSubstr("400302"));
}

TEST_F(AuthTest, BadRequestsAreInvalidArgumentNamingTheField) {
  ASSERT_EQ(Ctl({"init", "demo-app"}).exit_code, 0);
  CommandResult long_user =
      Ctl({"login", std::string(300, 'u'), "--token-file", server_.token_file("alice")});
  EXPECT_EQ(long_user.exit_code, 1);
  EXPECT_THAT(long_user.err, HasSubstr("user_id"));
  CommandResult long_token = Ctl({"login", "alice", "--token-stdin"}, std::string(5000, 't'));
  EXPECT_EQ(long_token.exit_code, 1);
  EXPECT_THAT(long_token.err, HasSubstr("token"));
  CommandResult empty_app = Ctl({"init", ""});
  EXPECT_NE(empty_app.exit_code, 0);
  // Nothing of it reached the server or changed the state.
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_LOGGED_OUT"));
}

TEST_F(AuthTest, TokensNeverAppearInLogsOrOutput) {
  InitAndLogin();
  CommandResult json = Ctl({"--json", "status"});
  ASSERT_EQ(Ctl({"logout"}).exit_code, 0);
  InitAndLogin();
  EXPECT_EQ(daemon_.Stop(), 0);
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(StatusJson(), "AUTHENTICATED\""); }));
  const std::string key = daemon_.StoredSessionKey();
  ASSERT_FALSE(key.empty());
  const std::string token = server_.token("alice");
  ASSERT_FALSE(token.empty());
  for (const std::string& text :
       {daemon_.log(), ReadFile(server_.log_path()), json.out, json.err}) {
    EXPECT_THAT(text, Not(HasSubstr(token)));
    EXPECT_THAT(text, Not(HasSubstr(key)));
  }
  EXPECT_THAT(daemon_.log(), HasSubstr("authenticated as alice")) << "the log is being read";
}

// --- The socket -----------------------------------------------------------------

TEST_F(AuthTest, SocketIsGroupOnlyAndALiveDaemonKeepsIt) {
  struct stat st {};
  ASSERT_EQ(stat(daemon_.socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  struct stat dir {};
  ASSERT_EQ(stat(daemon_.state_dir().c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
  ASSERT_EQ(stat((daemon_.state_dir() + "/callsd.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A second daemon on the same socket (another state dir) is refused.
  TempDir other;
  ProcessOptions o;
  o.argv = {Binary("callsd"), "--socket=" + daemon_.socket(), "--state_dir=" + (other / "state"),
            "--server_url=" + server_.url()};
  CommandResult second = RunCommand(o);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr(daemon_.socket()));
  EXPECT_THAT(second.err, HasSubstr("another running callsd"));
  EXPECT_THAT(Ctl({"status"}).out, HasSubstr("NOT_INITIALIZED")) << "the first one still serves";
}

TEST_F(AuthTest, StaleSocketOfADeadDaemonIsReplaced) {
  ASSERT_EQ(Ctl({"init", "demo-app"}).exit_code, 0);
  daemon_.Kill();  // SIGKILL: the socket file stays behind
  struct stat st {};
  ASSERT_EQ(stat(daemon_.socket().c_str(), &st), 0) << "expected a stale socket";
  ASSERT_TRUE(daemon_.Start());
  EXPECT_THAT(Ctl({"status"}).out, HasSubstr("demo-app"));
}

TEST_F(AuthTest, SigtermStopsCleanlyAndRemovesTheSocket) {
  EXPECT_EQ(daemon_.Stop(), 0);
  struct stat st {};
  EXPECT_NE(stat(daemon_.socket().c_str(), &st), 0);
  CommandResult status = Ctl({"status"});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr(daemon_.socket()));
}

// --- Access tiers (need root to act as other users) ---------------------------------

class AccessTest : public AuthTest {
 protected:
  static constexpr gid_t kSocketGroup = 45454;
  static constexpr uid_t kMember = 45455;
  static constexpr uid_t kStranger = 45456;

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "acting as other users needs root (setpriv)";
    daemon_.extra_args().push_back(absl::StrCat("--set=daemon.socket_group = \"", kSocketGroup,
                                                "\""));
    ASSERT_TRUE(daemon_.Start());
  }

  ProcessOptions As(uid_t uid, gid_t gid) {
    ProcessOptions o;
    o.uid = uid;
    o.gid = gid;
    return o;
  }
};

TEST_F(AccessTest, OutsiderIsRefusedAtConnect) {
  struct stat st {};
  ASSERT_EQ(stat(daemon_.socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, kSocketGroup);
  CommandResult status = daemon_.Ctl({"status"}, "", As(kStranger, kStranger));
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("ermission denied"));
  EXPECT_THAT(status.out, Not(HasSubstr("NOT_INITIALIZED")));
}

TEST_F(AccessTest, GroupMemberReadsButIsNotAdmin) {
  ASSERT_EQ(Ctl({"init", "demo-app"}).exit_code, 0);
  CommandResult status = daemon_.Ctl({"status"}, "", As(kMember, kSocketGroup));
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("LOGGED_OUT"));
  CommandResult login = daemon_.Ctl({"login", "alice", "--token-stdin"},
                                    server_.token("alice") + "\n", As(kMember, kSocketGroup));
  EXPECT_EQ(login.exit_code, 1);
  EXPECT_THAT(login.err, HasSubstr("admin"));
  EXPECT_THAT(login.err, HasSubstr("ermission"));
  EXPECT_THAT(StatusJson(), HasSubstr("SESSION_STATE_LOGGED_OUT"));
  // A supplementary group counts as membership too.
  CommandResult via_groups =
      daemon_.Ctl({"status"}, "", [&] {
        ProcessOptions o = As(kMember, kMember);
        o.groups = {kSocketGroup};
        return o;
      }());
  EXPECT_EQ(via_groups.exit_code, 0) << via_groups.err;
}

TEST_F(AccessTest, ConfiguredOperatorMayLogIn) {
  EXPECT_EQ(daemon_.Stop(), 0);
  daemon_.extra_args().push_back(
      absl::StrCat("--set=access.operator_users = [\"", kMember, "\"]"));
  ASSERT_TRUE(daemon_.Start());
  ASSERT_EQ(Ctl({"init", "demo-app"}).exit_code, 0);
  CommandResult login = daemon_.Ctl({"login", "alice", "--token-stdin"},
                                    server_.token("alice") + "\n", As(kMember, kSocketGroup));
  EXPECT_EQ(login.exit_code, 0) << login.err;
}

}  // namespace
}  // namespace callsd::itest
