// Calls through the daemons (issue 4), with the real calls-server and two or
// three callsd processes, each with its built-in push endpoint registered as
// its voip token: push -> ring -> accept/decline, and the WebSocket only
// while a call is active (checked on the sockets, as ss sees them).
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/push_signing.h"
#include "common/sqlite_db.h"
#include "common/wire_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "wire/v1/wire.pb.h"

namespace callsd::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The daemons' reconnect window and retry pace: short, so that the tests
// of a lost connection stay short.
std::vector<std::string> FastDaemon() {
  return {"--set=calls.reconnect_window_s = 4",
          "--set=session.retry_initial_ms = 100\nsession.retry_max_ms = 400"};
}

class CallsTest : public ::testing::Test {
 protected:
  CallsTest() : server_(dir_.path(), {"--ringing_timeout_s=6", "--reconnect_window_s=4"}) {}

  void SetUp() override {
    alice_ = std::make_unique<Device>(dir_ / "a", server_, "alice", server_.token_file("alice"),
                                      FastDaemon());
    bob_ = std::make_unique<Device>(dir_ / "b", server_, "bob", server_.token_file("bob"),
                                    FastDaemon());
  }
  void TearDown() override {
    if (HasFailure()) {
      for (Device* d : {alice_.get(), bob_.get()}) {
        if (d) std::fprintf(stderr, "--- %s's callsd ---\n%s\n", d->user().c_str(),
                            d->daemon().log().c_str());
      }
      std::fprintf(stderr, "--- calls-server ---\n%s\n", ReadFile(server_.log_path()).c_str());
    }
  }

  // alice dials bob; returns the call id once bob's watcher saw it ring.
  std::string DialBob(Watcher& bob_watch) {
    CommandResult dial = alice_->Ctl({"--json", "dial", "bob"});
    EXPECT_EQ(dial.exit_code, 0) << dial.err;
    const std::string call = JsonField(dial.out, "call_id");
    EXPECT_FALSE(call.empty()) << dial.out;
    EXPECT_TRUE(bob_watch.WaitForLine("\"ringing\"") && bob_watch.WaitForLine(call))
        << bob_watch.stderr_text();
    return call;
  }

  bool NoConnections(Device& d) {
    return WaitFor([&] { return d.ServerConnections() == 0; });
  }

  // A push for bob as the server would send it (signed with bob's key).
  std::string PushFor(Device& d, const std::string& type, const std::string& call_id,
                      absl::Time sent = absl::Now()) {
    wire::v1::PushPayload p;
    p.set_v(1);
    p.set_app_id("demo-app");
    p.set_user_id(d.user());
    p.set_type(type);
    p.set_call_id(call_id);
    p.mutable_caller()->set_user_id("alice");
    p.set_sent_at(absl::ToUnixMillis(sent));
    p.set_ttl_s(60);
    SignPush(&p, d.PushKey());
    return ToJson(p);
  }

  TempDir dir_;
  ServerProcess server_;
  std::unique_ptr<Device> alice_;
  std::unique_ptr<Device> bob_;
};

// 1-3: push -> ring without a socket; accept; end; sockets close.
TEST_F(CallsTest, DialRingAcceptEndWithTheWebSocketOnlyWhileActive) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  EXPECT_TRUE(NoConnections(*alice_));
  EXPECT_TRUE(NoConnections(*bob_));

  const std::string call = DialBob(bob_watch);
  EXPECT_EQ(bob_->ServerConnections(), 0) << "bob's daemon rings without a connection";
  EXPECT_EQ(alice_->ServerConnections(), 1) << "alice holds exactly one WebSocket";
  EXPECT_THAT(bob_->Ctl({"calls"}).out, HasSubstr("RINGING"));

  CommandResult accept = bob_->Ctl({"accept", call});
  ASSERT_EQ(accept.exit_code, 0) << accept.err;
  ASSERT_TRUE(bob_watch.WaitForLine("\"connected\""));
  ASSERT_TRUE(alice_watch.WaitForLine("\"connected\""));
  EXPECT_TRUE(alice_watch.WaitForLine("\"established\""));
  EXPECT_EQ(bob_->ServerConnections(), 1);
  // The duration counts from connected.
  EXPECT_TRUE(WaitFor([&] {
    const std::string calls = bob_->Ctl({"--json", "calls"}).out;
    int64_t ms = 0;
    return absl::SimpleAtoi(JsonField(calls, "duration_ms"), &ms) && ms >= 1000;
  }, absl::Seconds(5)));

  CommandResult end = alice_->Ctl({"end", call});
  ASSERT_EQ(end.exit_code, 0) << end.err;
  ASSERT_TRUE(bob_watch.WaitForLine("\"ended\""));
  ASSERT_TRUE(alice_watch.WaitForLine("\"ended\""));
  std::string ended;
  for (const std::string& line : bob_watch.Lines()) {
    if (absl::StrContains(line, "\"ended\"")) ended = line;
  }
  EXPECT_THAT(ended, HasSubstr("END_RESULT_COMPLETED"));
  EXPECT_THAT(ended, HasSubstr("\"ended_by\":\"alice\""));
  EXPECT_THAT(ended, Not(HasSubstr("\"duration_ms\":\"0\"")));
  EXPECT_TRUE(NoConnections(*alice_)) << "nothing to the server stays open";
  EXPECT_TRUE(NoConnections(*bob_));
}

// 4: decline over REST; bob never opens a WebSocket.
TEST_F(CallsTest, DeclineNeverOpensAWebSocket) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string call = DialBob(bob_watch);
  CommandResult decline = bob_->Ctl({"decline", call});
  ASSERT_EQ(decline.exit_code, 0) << decline.err;
  EXPECT_THAT(decline.out, HasSubstr("declined"));
  ASSERT_TRUE(alice_watch.WaitForLine("END_RESULT_DECLINED"));
  EXPECT_EQ(bob_->ServerConnections(), 0);
  EXPECT_TRUE(NoConnections(*alice_));
}

// 5: no answer, and the caller hanging up first.
TEST_F(CallsTest, UnansweredCallEndsOnBothSidesAndCancelReachesTheCallee) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  DialBob(bob_watch);
  EXPECT_TRUE(alice_watch.WaitForLine("END_RESULT_NO_ANSWER", absl::Seconds(15)));
  EXPECT_TRUE(bob_watch.WaitForLine("END_RESULT_TIMED_OUT", absl::Seconds(15)));
  EXPECT_TRUE(NoConnections(*alice_));

  const std::string second = DialBob(bob_watch);
  ASSERT_EQ(alice_->Ctl({"end", second}).exit_code, 0);
  EXPECT_TRUE(bob_watch.WaitForLine("END_RESULT_CANCELED")) << "through a call.canceled push";
}

// 6: accept while the daemon is still authenticating.
TEST_F(CallsTest, AcceptBeforeAuthenticationWaitsThenSucceeds) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  GatedProxy slow(server_.port());
  EXPECT_EQ(bob_->daemon().Stop(), 0);
  slow.Close();
  bob_->daemon().set_server_url(slow.url());
  ASSERT_TRUE(bob_->daemon().Start());
  EXPECT_THAT(bob_->Ctl({"status"}).out, HasSubstr("AUTHENTICATING"));
  // Dialed once bob's daemon is up, so that the ringing window (6 s) is
  // spent on what is tested, not on a (sanitized, slow) daemon start.
  const std::string dial = alice_->Ctl({"--json", "dial", "bob"}).out;
  const std::string call = JsonField(dial, "call_id");
  ASSERT_FALSE(call.empty()) << dial;
  CommandResult push = bob_->Ctl({"push", "deliver"}, PushFor(*bob_, "call.ringing", call));
  ASSERT_EQ(push.exit_code, 0) << push.err;
  EXPECT_THAT(push.out, HasSubstr("rang"));

  ProcessOptions o;
  o.argv = {Binary("callsctl"), "--socket=" + bob_->daemon().socket(), "accept", call};
  o.stdout_path = dir_ / "accept.out";
  o.stderr_path = dir_ / "accept.err";
  auto accepting = Process::Start(o);
  ASSERT_TRUE(accepting.ok());
  EXPECT_FALSE((*accepting)->Wait(absl::Milliseconds(500)).ok()) << "waits for the login";
  slow.Open();
  auto code = (*accepting)->Wait(absl::Seconds(15));
  ASSERT_TRUE(code.ok()) << "the accept never hangs";
  EXPECT_EQ(*code, 0) << ReadFile(dir_ / "accept.err");
  EXPECT_TRUE(alice_watch.WaitForLine("\"connected\""));
}

TEST_F(CallsTest, AcceptBeforeAuthenticationFailsClearlyWhenTheCallStopsRinging) {
  GatedProxy slow(server_.port());
  slow.Close();
  EXPECT_EQ(bob_->daemon().Stop(), 0);
  bob_->daemon().set_server_url(slow.url());
  bob_->daemon().extra_args().push_back("--set=calls.ringing_timeout_s = 5");
  ASSERT_TRUE(bob_->daemon().Start());
  ASSERT_EQ(bob_->Ctl({"push", "deliver"}, PushFor(*bob_, "call.ringing", "c-offline")).exit_code,
            0);
  const absl::Time start = absl::Now();
  CommandResult accept = bob_->Ctl({"accept", "c-offline"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(12)) << "bounded by the ringing timeout";
  EXPECT_EQ(accept.exit_code, 1);
  EXPECT_THAT(accept.err, HasSubstr("timed_out"));
}

// 7: several apps accept at once; another device of bob's stops ringing.
TEST_F(CallsTest, OneOfThreeAcceptsWinsAndTheOtherDeviceIsTold) {
  Device bob2(dir_ / "b2", server_, "bob", server_.token_file("bob"), FastDaemon());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  Watcher bob2_watch(bob2.daemon(), dir_.path());
  const std::string call = DialBob(bob_watch);
  ASSERT_TRUE(bob2_watch.WaitForLine(call)) << "both devices ring";

  std::vector<std::unique_ptr<Process>> accepts;
  for (int i = 0; i < 3; ++i) {
    ProcessOptions o;
    o.argv = {Binary("callsctl"), "--socket=" + bob_->daemon().socket(), "accept", call};
    o.stdout_path = dir_ / absl::StrCat("accept", i, ".out");
    o.stderr_path = dir_ / absl::StrCat("accept", i, ".err");
    accepts.push_back(*Process::Start(o));
  }
  int won = 0, lost = 0;
  for (int i = 0; i < 3; ++i) {
    auto code = accepts[i]->Wait(absl::Seconds(15));
    ASSERT_TRUE(code.ok());
    if (*code == 0) ++won;
    if (*code == 1) {
      ++lost;
      EXPECT_THAT(ReadFile(dir_ / absl::StrCat("accept", i, ".err")), HasSubstr("already accepted"));
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, 2);
  EXPECT_TRUE(bob2_watch.WaitForLine("END_RESULT_OTHER_DEVICE_ACCEPTED"));
  EXPECT_EQ(bob2.ServerConnections(), 0);
}

// 8: the push hand-off, and pushes that must not ring.
TEST_F(CallsTest, PushDeliverRingsOnceAndRefusesBadPayloadsWithAReason) {
  Watcher bob_watch(bob_->daemon(), dir_.path());
  CommandResult rang = bob_->Ctl({"push", "deliver"}, PushFor(*bob_, "call.ringing", "p1"));
  ASSERT_EQ(rang.exit_code, 0) << rang.err;
  EXPECT_THAT(rang.out, HasSubstr("rang"));
  CommandResult again = bob_->Ctl({"push", "deliver"}, PushFor(*bob_, "call.ringing", "p1"));
  EXPECT_THAT(again.out, HasSubstr("duplicate"));

  wire::v1::PushPayload forged;
  ASSERT_TRUE(FromJson(PushFor(*bob_, "call.ringing", "p2"), &forged).ok());
  SignPush(&forged, "not bob's key");
  CommandResult refused = bob_->Ctl({"push", "deliver"}, ToJson(forged));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("signature"));
  CommandResult stale = bob_->Ctl(
      {"push", "deliver"}, PushFor(*bob_, "call.ringing", "p3", absl::Now() - absl::Minutes(5)));
  EXPECT_THAT(stale.err, HasSubstr("stale"));
  CommandResult wrong_user = bob_->Ctl({"push", "deliver"}, PushFor(*alice_, "call.ringing", "p4"));
  EXPECT_EQ(wrong_user.exit_code, 1);
  CommandResult garbage = bob_->Ctl({"push", "deliver"}, "{not json");
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_THAT(garbage.err, HasSubstr("JSON"));
  EXPECT_THAT(bob_->daemon().log(), HasSubstr("push rejected")) << "rejections are logged";

  // A canceled call's late ringing push gives PushForEndedCall, no ring.
  ASSERT_EQ(bob_->Ctl({"push", "deliver"}, PushFor(*bob_, "call.canceled", "p1")).exit_code, 0);
  CommandResult late = bob_->Ctl({"push", "deliver"}, PushFor(*bob_, "call.ringing", "p1"));
  EXPECT_THAT(late.out, HasSubstr("ended"));
  EXPECT_TRUE(bob_watch.WaitForLine("push_for_ended_call"));
  int rings = 0;
  for (const std::string& line : bob_watch.Lines()) {
    if (absl::StrContains(line, "\"ringing\"")) ++rings;
  }
  EXPECT_EQ(rings, 1);
}

// 9: pushes missed while the daemon was down.
TEST_F(CallsTest, RingingCallsMissedWhileDownRingAfterStart) {
  EXPECT_EQ(bob_->daemon().Stop(), 0);
  const std::string call = JsonField(alice_->Ctl({"--json", "dial", "bob"}).out, "call_id");
  ASSERT_FALSE(call.empty());
  ASSERT_TRUE(bob_->daemon().Start());
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(bob_->Ctl({"calls"}).out, call); }))
      << "recovered from the server after authenticating";
  EXPECT_THAT(bob_->Ctl({"calls"}).out, HasSubstr("RINGING"));
}

// 10: the WebSocket drops mid-call.
TEST_F(CallsTest, ServerRestartMidCallReconnectsOrEndsAsConnectionLost) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string call = DialBob(bob_watch);
  ASSERT_EQ(bob_->Ctl({"accept", call}).exit_code, 0);
  ASSERT_TRUE(bob_watch.WaitForLine("\"connected\""));
  server_.Stop();
  ASSERT_TRUE(server_.Start());
  EXPECT_TRUE(bob_watch.WaitForLine("\"reconnecting\""));
  EXPECT_TRUE(bob_watch.WaitForLine("\"reconnected\"", absl::Seconds(15)));
  EXPECT_TRUE(alice_watch.WaitForLine("\"reconnected\"", absl::Seconds(15)));
  EXPECT_THAT(bob_->Ctl({"calls"}).out, HasSubstr("CONNECTED"));

  server_.Stop();  // and stays away past the window
  EXPECT_TRUE(bob_watch.WaitForLine("END_RESULT_CONNECTION_LOST", absl::Seconds(20)));
  EXPECT_TRUE(alice_watch.WaitForLine("END_RESULT_CONNECTION_LOST", absl::Seconds(20)));
  EXPECT_THAT(bob_->Ctl({"calls"}).out, Not(HasSubstr("RECONNECTING"))) << "never a stuck call";
}

// 11: mute.
TEST_F(CallsTest, MuteReachesTheOtherSide) {
  Watcher alice_watch(alice_->daemon(), dir_.path());
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string call = DialBob(bob_watch);
  ASSERT_EQ(bob_->Ctl({"accept", call}).exit_code, 0);
  ASSERT_TRUE(alice_watch.WaitForLine("\"connected\""));
  CommandResult mute = bob_->Ctl({"mute", call});
  ASSERT_EQ(mute.exit_code, 0) << mute.err;
  EXPECT_TRUE(alice_watch.WaitForLine("remote_audio_changed"));
  EXPECT_TRUE(alice_watch.WaitForLine("\"muted\":true"));
  ASSERT_EQ(bob_->Ctl({"unmute", call}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] {
    int changes = 0;
    for (const std::string& l : alice_watch.Lines()) {
      if (absl::StrContains(l, "remote_audio_changed")) ++changes;
    }
    return changes == 2;
  }));
}

// 12: history, also when the server is away.
TEST_F(CallsTest, HistoryIsNewestFirstAndShowsOfflineFromTheCache) {
  Watcher bob_watch(bob_->daemon(), dir_.path());
  const std::string first = DialBob(bob_watch);
  ASSERT_EQ(bob_->Ctl({"decline", first}).exit_code, 0);
  const std::string second = DialBob(bob_watch);
  ASSERT_EQ(bob_->Ctl({"accept", second}).exit_code, 0);
  ASSERT_TRUE(bob_watch.WaitForLine("\"connected\""));
  ASSERT_EQ(alice_->Ctl({"end", second}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(bob_->Ctl({"calls"}).out, "completed");
  }));
  CommandResult history = bob_->Ctl({"--json", "history"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  const size_t at_second = history.out.find(second);
  const size_t at_first = history.out.find(first);
  ASSERT_NE(at_second, std::string::npos);
  ASSERT_NE(at_first, std::string::npos);
  EXPECT_LT(at_second, at_first) << "newest first";
  EXPECT_THAT(history.out, HasSubstr("END_RESULT_COMPLETED"));
  EXPECT_THAT(history.out, HasSubstr("END_RESULT_DECLINED"));

  server_.Stop();
  CommandResult offline = bob_->Ctl({"history"});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
  EXPECT_THAT(offline.out, HasSubstr("local cache"));
  EXPECT_THAT(offline.out, HasSubstr("completed"));
}

}  // namespace
}  // namespace callsd::itest
