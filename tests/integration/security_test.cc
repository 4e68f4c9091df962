// Security (issue 7, point 6), with the real calls-server, callsd and
// callsctl as processes: the log scanner that every integration test runs
// at its end (see harness.h "Secrets in logs") can fail; the state's file
// modes hold through restart, logout and wipe; forged and replayed pushes do
// not ring; DeliverPush can be narrowed to the push distributor.
//
// Covered elsewhere: an outsider cannot connect and a group member cannot use
// admin methods (auth_test.cc AccessTest.OutsiderIsRefusedAtConnect,
// GroupMemberReadsButIsNotAdmin).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/push_signing.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "wire/v1/wire.pb.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// --- The log scanner ------------------------------------------------------------------

std::vector<std::string> Kinds(const std::vector<SecretLeak>& leaks) {
  std::vector<std::string> kinds;
  for (const SecretLeak& leak : leaks) kinds.push_back(leak.kind);
  return kinds;
}

TEST(SecretScanTest, FindsPlantedSecretsInEveryFormAndNothingInCleanText) {
  const std::string token = RandomToken();
  const std::string push_key = RandomBytes(32);
  const std::string hashed_only = RandomToken();
  Secrets secrets;
  secrets.AddText("alice's access token", token);
  secrets.AddBinary("alice's push key", push_key);
  secrets.hashed.emplace(Sha256Hex(hashed_only), "a session key");

  const std::string clean =
      "I1206 12:00:00 authenticated as alice (session key ...)\n"
      "I1206 12:00:01 push token (voip) registered; call " + RandomToken() + " rang\n";
  EXPECT_THAT(FindSecrets("clean.log", clean, secrets), ::testing::IsEmpty());

  EXPECT_THAT(Kinds(FindSecrets("a.log", "Bearer " + token + "\n", secrets)),
              ::testing::ElementsAre("alice's access token"));
  // A token known only by its hash, inside a longer run of token characters.
  EXPECT_THAT(Kinds(FindSecrets("b.log", "key=x_" + hashed_only + "_y\n", secrets)),
              ::testing::ElementsAre("a session key"));
  for (const std::string& form :
       {absl::Base64Escape(push_key), absl::WebSafeBase64Escape(push_key),
        absl::BytesToHexString(push_key), absl::AsciiStrToUpper(absl::BytesToHexString(push_key))}) {
    std::vector<SecretLeak> leaks = FindSecrets("c.log", "push_key: " + form + "\n", secrets);
    ASSERT_EQ(leaks.size(), 1u) << form;
    EXPECT_THAT(leaks[0].kind, HasSubstr("alice's push key"));
    EXPECT_EQ(leaks[0].offset, 10u);
    EXPECT_EQ(leaks[0].where, "c.log");
  }
}

// The check every integration test runs at its end fails a test whose logs
// hold a secret of its server or daemon.
TEST(SecretScanTest, APlantedSecretInALogFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        TempDir dir;
        ServerProcess server(dir.path());
        WriteFile(dir / "callsd.log", "I1206 login with " + server.token("bob") + "\n", 0644);
      },
      "bob's access token");
  // A session key the daemon no longer holds (logged out), remembered from
  // before the logout: in a watcher's output, and in callsctl's (a refused
  // command names the call ID it was given).
  for (const bool in_callsctl_output : {false, true}) {
    EXPECT_NONFATAL_FAILURE(
        {
          TempDir dir;
          ServerProcess server(dir.path());
          DaemonProcess daemon(dir.path(), server.url());
          EXPECT_TRUE(daemon.Start());
          EXPECT_EQ(daemon.Ctl({"init", "demo-app"}).exit_code, 0);
          EXPECT_EQ(daemon.Ctl({"login", "alice", "--token-file", server.token_file("alice")})
                        .exit_code,
                    0);
          const std::string key = daemon.StoredSessionKey();
          EXPECT_EQ(daemon.Ctl({"logout"}).exit_code, 0);
          EXPECT_TRUE(daemon.StoredSessionKey().empty());
          if (in_callsctl_output) {
            EXPECT_THAT(daemon.Ctl({"accept", key}).err, HasSubstr("no call"));
          } else {
            WriteFile(dir / "watch-1.out", "{\"key\":\"" + key + "\"}\n", 0644);
          }
        },
        "session key in ");
  }
}

// --- File modes -------------------------------------------------------------------------

class StateModesTest : public DaemonTest {
 protected:
  void SetUp() override {
    // The modes must not come from the umask: run the daemon under none.
    old_umask_ = umask(0);
    DaemonTest::SetUp();
  }
  void TearDown() override {
    umask(old_umask_);
    DaemonTest::TearDown();
  }

  // DESIGN.md "Access control": the database (and its WAL and shared-memory
  // files) 0600 in a 0700 state directory; the socket 0660.
  void ExpectModes(const std::string& when) {
    SCOPED_TRACE(when);
    struct stat st {};
    ASSERT_EQ(stat(daemon_.state_dir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u) << "state directory";
    ASSERT_EQ(stat((daemon_.state_dir() + "/callsd.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << "callsd.db";
    for (const std::filesystem::directory_entry& entry :
         std::filesystem::directory_iterator(daemon_.state_dir())) {
      ASSERT_EQ(stat(entry.path().c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0077, 0u) << entry.path() << " is open to others";
    }
    if (daemon_.running()) {
      ASSERT_EQ(stat(daemon_.socket().c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, 0660u) << "socket";
    }
  }

  void ExpectWalFiles() {
    for (const char* suffix : {"-wal", "-shm"}) {
      struct stat st {};
      const std::string path = daemon_.state_dir() + "/callsd.db" + suffix;
      ASSERT_EQ(stat(path.c_str(), &st), 0) << path << " expected while the daemon runs (WAL)";
      EXPECT_EQ(st.st_mode & 07777, 0600u) << path;
    }
  }

  mode_t old_umask_ = 0;
};

TEST_F(StateModesTest, DatabaseAndFolderKeepTheirModesThroughRestartLogoutAndWipe) {
  ExpectModes("fresh");
  InitAndLogin();
  ExpectWalFiles();
  ExpectModes("logged in");

  EXPECT_EQ(daemon_.Stop(), 0);
  ExpectModes("stopped");
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(StatusJson(), "AUTHENTICATED\""); }));
  ExpectWalFiles();
  ExpectModes("restarted");

  ASSERT_EQ(Ctl({"logout"}).exit_code, 0);
  ExpectModes("logged out");
  InitAndLogin();
  ASSERT_EQ(Ctl({"init", "other-app"}).exit_code, 0);  // wipes the session and calls
  ExpectWalFiles();
  ExpectModes("wiped by init");

  daemon_.Kill();
  ASSERT_TRUE(daemon_.Start());
  ExpectModes("after SIGKILL and start");
}

// Files of an older version or a careless admin: tightened before they are
// opened (SQLite gives the -wal and -shm files it creates the database's
// mode), including the WAL a SIGKILL left behind.
TEST_F(StateModesTest, LooseModesLeftByOthersAreTightenedAtStart) {
  InitAndLogin();
  daemon_.Kill();
  ASSERT_EQ(chmod(daemon_.state_dir().c_str(), 0755), 0);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    ASSERT_EQ(chmod((daemon_.state_dir() + "/callsd.db" + suffix).c_str(), 0644), 0) << suffix;
  }
  ASSERT_TRUE(daemon_.Start());
  ExpectWalFiles();
  ExpectModes("tightened");
  EXPECT_THAT(daemon_.log(), HasSubstr("now 0700"));
  EXPECT_THAT(daemon_.log(), HasSubstr("now 0600"));
}

// --- Forged and replayed pushes ------------------------------------------------------------

// Users and groups to act as (needs root: setpriv).
constexpr gid_t kSocketGroup = 45470;
constexpr uid_t kMember = 45471;
constexpr uid_t kDistributor = 45472;
constexpr gid_t kDistributorGroup = 45473;
constexpr uid_t kGroupDistributor = 45474;

ProcessOptions As(uid_t uid, std::vector<gid_t> groups) {
  ProcessOptions o;
  o.uid = uid;
  o.gid = uid;
  o.groups = std::move(groups);
  return o;
}

class PushSecurityTest : public ::testing::Test {
 protected:
  explicit PushSecurityTest(std::vector<std::string> bob_args = {}) : server_(dir_.path()) {
    bob_args.push_back(absl::StrCat("--set=daemon.socket_group = \"", kSocketGroup, "\""));
    bob_ = std::make_unique<Device>(dir_ / "b", server_, "bob", server_.token_file("bob"),
                                    bob_args);
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "acting as other users needs root (setpriv)";
  }
  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "--- bob's callsd ---\n%s\n--- calls-server ---\n%s\n",
                   bob_->daemon().log().c_str(), ReadFile(server_.log_path()).c_str());
    }
  }

  // A push for bob as calls-server would send it, signed with `key` (bob's
  // real push key unless given).
  std::string PushForBob(const std::string& type, const std::string& call_id,
                         std::optional<std::string> key = std::nullopt,
                         absl::Time sent = absl::Now()) {
    wire::v1::PushPayload p;
    p.set_v(1);
    p.set_app_id("demo-app");
    p.set_user_id("bob");
    p.set_type(type);
    p.set_call_id(call_id);
    p.mutable_caller()->set_user_id("alice");
    p.set_sent_at(absl::ToUnixMillis(sent));
    p.set_ttl_s(60);
    SignPush(&p, key ? *key : bob_->PushKey());
    return ToJson(p);
  }

  // POST to bob's built-in push endpoint, which any local process can reach.
  std::pair<int, std::string> PostToEndpoint(const std::string& payload) {
    return HttpCall("POST", JsonField(bob_->Ctl({"--json", "status"}).out, "push_endpoint_url"),
                    payload);
  }

  int Rings(const Watcher& watcher, const std::string& call_id) {
    int rings = 0;
    for (const std::string& line : watcher.Lines()) {
      if (absl::StrContains(line, "\"ringing\"") && absl::StrContains(line, call_id)) ++rings;
    }
    return rings;
  }

  bool KnowsCall(const std::string& call_id) {
    return absl::StrContains(bob_->Ctl({"calls"}).out, call_id);
  }

  TempDir dir_;
  ServerProcess server_;
  std::unique_ptr<Device> bob_;
};

TEST_F(PushSecurityTest, ForgedPushesFromAGroupMemberOrOverTheEndpointDoNotRing) {
  Watcher watch(bob_->daemon(), dir_.path());
  const ProcessOptions member = As(kMember, {kSocketGroup});
  // Signed with a key of the member's own making (it does not know bob's).
  CommandResult forged = bob_->daemon().Ctl(
      {"push", "deliver"}, PushForBob("call.ringing", "forged-1", RandomBytes(32)), member);
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_THAT(forged.err, HasSubstr("signature"));
  // Bob's user ID with alice's key: a push key is per user.
  auto [code, body] = PostToEndpoint(PushForBob("call.ringing", "forged-2", RandomBytes(32)));
  EXPECT_EQ(code, 403) << body;
  EXPECT_THAT(body, HasSubstr("signature"));
  // Unsigned.
  wire::v1::PushPayload unsigned_push;
  ASSERT_TRUE(FromJson(PushForBob("call.ringing", "forged-3"), &unsigned_push).ok());
  unsigned_push.clear_sig();
  auto [unsigned_code, unsigned_body] = PostToEndpoint(ToJson(unsigned_push));
  EXPECT_EQ(unsigned_code, 403) << unsigned_body;
  // A valid signature over a payload changed afterwards (another call).
  wire::v1::PushPayload altered;
  ASSERT_TRUE(FromJson(PushForBob("call.ringing", "real-1"), &altered).ok());
  altered.set_call_id("forged-4");
  auto [altered_code, altered_body] = PostToEndpoint(ToJson(altered));
  EXPECT_EQ(altered_code, 403) << altered_body;

  // The member's genuine push rings: the refusals were for the forgery.
  CommandResult genuine =
      bob_->daemon().Ctl({"push", "deliver"}, PushForBob("call.ringing", "genuine-1"), member);
  EXPECT_EQ(genuine.exit_code, 0) << genuine.err;
  ASSERT_TRUE(watch.WaitForLine("genuine-1"));
  for (const char* id : {"forged-1", "forged-2", "forged-3", "forged-4"}) {
    EXPECT_FALSE(KnowsCall(id)) << id;
    EXPECT_EQ(Rings(watch, id), 0) << id;
  }
}

TEST_F(PushSecurityTest, ReplayedPushesDoNotRingAgain) {
  Device alice(dir_ / "a", server_, "alice", server_.token_file("alice"));
  Watcher watch(bob_->daemon(), dir_.path());
  CommandResult dial = alice.Ctl({"--json", "dial", "bob"});
  ASSERT_EQ(dial.exit_code, 0) << dial.err;
  const std::string call = JsonField(dial.out, "call_id");
  ASSERT_TRUE(watch.WaitForLine(call)) << "the server's push rings bob";
  ASSERT_TRUE(WaitFor([&] { return Rings(watch, call) == 1; }));

  // The same push again, over the endpoint and over the socket.
  const std::string push = PushForBob("call.ringing", call);
  auto [code, body] = PostToEndpoint(push);
  EXPECT_EQ(code, 200) << body;
  EXPECT_THAT(body, HasSubstr("duplicate"));
  CommandResult again = bob_->Ctl({"push", "deliver"}, push);
  EXPECT_THAT(again.out, HasSubstr("duplicate"));

  // Once the call ended, and across a restart of bob's daemon.
  ASSERT_EQ(alice.Ctl({"end", call}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(bob_->Ctl({"calls"}).out, "ENDED"); }))
      << bob_->Ctl({"calls"}).out;
  CommandResult after_end = bob_->Ctl({"push", "deliver"}, push);
  EXPECT_THAT(after_end.out, HasSubstr("ended"));
  EXPECT_EQ(bob_->daemon().Stop(), 0);
  ASSERT_TRUE(bob_->daemon().Start());
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(bob_->Ctl({"status"}).out, "AUTHENTICATED");
  }));
  Watcher after_restart(bob_->daemon(), dir_.path());
  CommandResult replayed = bob_->Ctl({"push", "deliver"}, push);
  EXPECT_THAT(replayed.out, HasSubstr("ended")) << replayed.err;
  EXPECT_TRUE(after_restart.WaitForLine("push_for_ended_call"));
  EXPECT_EQ(Rings(after_restart, call), 0);

  // A push captured long ago is stale whatever its call.
  CommandResult old = bob_->Ctl(
      {"push", "deliver"},
      PushForBob("call.ringing", "old-1", std::nullopt, absl::Now() - absl::Minutes(2)));
  EXPECT_EQ(old.exit_code, 1);
  EXPECT_THAT(old.err, HasSubstr("stale"));
  EXPECT_FALSE(KnowsCall("old-1"));
  EXPECT_EQ(Rings(watch, call), 1) << "rang once in all";
}

// --- DeliverPush narrowed to the push distributor ---------------------------------------------

class PushDistributorTest : public PushSecurityTest {
 protected:
  PushDistributorTest()
      : PushSecurityTest({absl::StrCat("--set=access.push_distributor_users = [\"",
                                       kDistributor, "\"]"),
                          absl::StrCat("--set=access.push_distributor_groups = [\"",
                                       kDistributorGroup, "\"]")}) {}
};

TEST_F(PushDistributorTest, OnlyTheDistributorsPushRings) {
  Watcher watch(bob_->daemon(), dir_.path());
  CommandResult member = bob_->daemon().Ctl(
      {"push", "deliver"}, PushForBob("call.ringing", "by-member"), As(kMember, {kSocketGroup}));
  EXPECT_EQ(member.exit_code, 1);
  EXPECT_THAT(member.err, HasSubstr("ermission denied"));
  EXPECT_THAT(member.err, HasSubstr("push tier"));
  EXPECT_THAT(member.err, HasSubstr("push distributor"));
  EXPECT_FALSE(KnowsCall("by-member"));
  // The member keeps the rest of call control and reading.
  CommandResult calls = bob_->daemon().Ctl({"calls"}, "", As(kMember, {kSocketGroup}));
  EXPECT_EQ(calls.exit_code, 0) << calls.err;

  CommandResult distributor =
      bob_->daemon().Ctl({"push", "deliver"}, PushForBob("call.ringing", "by-distributor"),
                         As(kDistributor, {kSocketGroup}));
  EXPECT_EQ(distributor.exit_code, 0) << distributor.err;
  EXPECT_THAT(distributor.out, HasSubstr("rang"));
  CommandResult by_group =
      bob_->daemon().Ctl({"push", "deliver"}, PushForBob("call.ringing", "by-group"),
                         As(kGroupDistributor, {kSocketGroup, kDistributorGroup}));
  EXPECT_EQ(by_group.exit_code, 0) << by_group.err;
  // Root (the admin tier) may still deliver.
  EXPECT_EQ(bob_->Ctl({"push", "deliver"}, PushForBob("call.ringing", "by-root")).exit_code, 0);
  for (const char* id : {"by-distributor", "by-group", "by-root"}) {
    EXPECT_TRUE(watch.WaitForLine(id)) << id;
  }
  EXPECT_EQ(Rings(watch, "by-member"), 0);

  // The distributor's forged push is refused all the same.
  CommandResult forged = bob_->daemon().Ctl(
      {"push", "deliver"}, PushForBob("call.ringing", "forged-by-distributor", RandomBytes(32)),
      As(kDistributor, {kSocketGroup}));
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_THAT(forged.err, HasSubstr("signature"));
}

}  // namespace
}  // namespace callsd::itest
