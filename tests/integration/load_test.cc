// Load, short (issue 7; the minute-long run is bench/load_driver): bob's
// daemon serves 200 watchers on their own connections, five of which never
// read, and 30 clients issuing mixed RPCs, while alice's calls ring bob by
// real pushes and end (canceled, declined, accepted then ended). No timing
// targets: every RPC is answered with OK or an error it may get; every
// fast watcher sees every event in order; the slow ones are dropped with
// RESOURCE_EXHAUSTED; the daemon stays up and gives its memory back.
#include <grpcpp/grpcpp.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "callsd/v1/callsd.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/load/load_clients.h"

namespace callsd::itest {
namespace {

using callsd::load::CurrentCall;
using callsd::load::OwnChannel;
using callsd::load::ProcStats;
using callsd::load::ReadProcStats;
using callsd::load::SlowWatcher;
using callsd::load::Watcher;
using callsd::load::WithDeadline;
using callsd::v1::Calls;

constexpr int kFastWatchers = 195;
constexpr int kSlowWatchers = 5;
constexpr int kClients = 30;
constexpr int kCalls = 9;  // three of each ending
// Small, so that a watcher that reads nothing is dropped after a few events.
constexpr int kWatcherQueue = 16;
constexpr absl::Duration kDeadline = absl::Seconds(20);  // per RPC

// Status codes per RPC kind, from every client.
class Outcomes {
 public:
  void Add(const std::string& kind, grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    codes_[kind][code]++;
  }
  std::map<std::string, std::map<grpc::StatusCode, int>> codes() {
    absl::MutexLock lock(&mu_);
    return codes_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::map<grpc::StatusCode, int>> codes_ ABSL_GUARDED_BY(mu_);
};

class LoadTest : public ::testing::Test {
 protected:
  LoadTest() : server_(dir_.path()) {}

  void SetUp() override {
    alice_ = std::make_unique<Device>(dir_ / "a", server_, "alice", server_.token_file("alice"));
    bob_ = std::make_unique<Device>(
        dir_ / "b", server_, "bob", server_.token_file("bob"),
        std::vector<std::string>{absl::StrCat("--set=daemon.watcher_queue = ", kWatcherQueue)});
  }
  void TearDown() override {
    if (HasFailure() && bob_ != nullptr) {
      std::fprintf(stderr, "--- bob's callsd (tail) ---\n%s\n",
                   Tail(bob_->daemon().log(), 20000).c_str());
    }
  }
  static std::string Tail(const std::string& s, size_t n) {
    return s.size() <= n ? s : s.substr(s.size() - n);
  }

  TempDir dir_;
  ServerProcess server_;
  std::unique_ptr<Device> alice_;
  std::unique_ptr<Device> bob_;
};

TEST_F(LoadTest, WatchersAndClientsUnderLoadWhileCallsRingAndEnd) {
  const pid_t bob_pid = bob_->daemon().pid();
  const std::string socket = bob_->daemon().socket();
  const ProcStats idle = ReadProcStats(bob_pid);

  std::vector<std::unique_ptr<Watcher>> fast;
  std::vector<std::unique_ptr<SlowWatcher>> slow;
  for (int i = 0; i < kFastWatchers; ++i) {
    fast.push_back(std::make_unique<Watcher>(socket, /*monitor=*/i == 0));
  }
  for (int i = 0; i < kSlowWatchers; ++i) slow.push_back(std::make_unique<SlowWatcher>(socket));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& w : fast) {
          if (!w->has_snapshot()) return false;
        }
        return true;
      },
      absl::Seconds(30)));

  Outcomes outcomes;
  CurrentCall current;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  // Not End in the race: see ClientOptions::end_in_race.
  const callsd::load::ClientOptions client{.deadline = kDeadline, .end_in_race = false};
  const callsd::load::RpcResult record = [&](const std::string& kind, absl::Duration,
                                             const grpc::Status& status) {
    outcomes.Add(kind, status.error_code());
  };
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(callsd::load::RunClient, socket, i, std::cref(client), &current,
                         std::cref(record), &stop);
  }

  // alice calls bob kCalls times; each call is canceled by alice, declined
  // by bob or accepted by bob and then ended by alice, while the clients
  // race on it. The first fast watcher tells when bob's daemon got there.
  auto alice = Calls::NewStub(OwnChannel(alice_->daemon().socket()));
  auto bob = Calls::NewStub(OwnChannel(socket));
  Watcher& monitor = *fast.front();
  for (int i = 0; i < kCalls; ++i) {
    grpc::ClientContext ctx;
    callsd::v1::DialRequest dial;
    dial.set_callee_id("bob");
    callsd::v1::DialResponse dialed;
    const grpc::Status s = alice->Dial(WithDeadline(&ctx, kDeadline), dial, &dialed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const std::string id = dialed.call().call_id();
    ASSERT_TRUE(WaitFor([&] { return monitor.Saw("ringing", id); })) << "call " << i;
    current.Set(id);
    grpc::ClientContext bob_ctx;
    if (i % 3 == 1) {
      callsd::v1::DeclineRequest q;
      q.set_call_id(id);
      callsd::v1::DeclineResponse r;
      outcomes.Add("Decline", bob->Decline(WithDeadline(&bob_ctx, kDeadline), q, &r).error_code());
    } else if (i % 3 == 2) {
      callsd::v1::AcceptRequest q;
      q.set_call_id(id);
      callsd::v1::AcceptResponse r;
      const grpc::Status accepted = bob->Accept(WithDeadline(&bob_ctx, kDeadline), q, &r);
      outcomes.Add("Accept", accepted.error_code());
      if (accepted.ok()) {
        EXPECT_TRUE(WaitFor([&] { return monitor.Saw("connected", id); }));
      }
    }
    grpc::ClientContext end_ctx;
    callsd::v1::EndRequest end;
    end.set_call_id(id);
    callsd::v1::EndResponse ended;
    outcomes.Add("End", alice->End(WithDeadline(&end_ctx, kDeadline), end, &ended).error_code());
    ASSERT_TRUE(WaitFor([&] { return monitor.Saw("ended", id); })) << "call " << i;
    current.Set("");
  }
  stop = true;
  for (auto& t : clients) t.join();

  // Every RPC was answered: OK, or the error its race allows (the call
  // already ended or was taken: FAILED_PRECONDITION / NOT_FOUND). Never a
  // deadline, an unavailable daemon or an internal error.
  const std::set<grpc::StatusCode> race_errors = {grpc::StatusCode::FAILED_PRECONDITION,
                                                  grpc::StatusCode::NOT_FOUND};
  int answered = 0;
  for (const auto& [kind, codes] : outcomes.codes()) {
    const bool reads = kind == "GetState" || kind == "ListCalls" || kind == "GetCallHistory" ||
                       kind == "ListPushTokens";
    for (const auto& [code, n] : codes) {
      answered += n;
      EXPECT_TRUE(code == grpc::StatusCode::OK || (!reads && race_errors.count(code) > 0))
          << n << " " << kind << " answered with code " << code;
    }
  }
  EXPECT_GT(answered, kClients * 10);
  std::printf("load: %d RPCs answered\n", answered);

  // Every fast watcher has every event up to the last, in order.
  callsd::v1::State state;
  {
    grpc::ClientContext ctx;
    const grpc::Status s = bob->GetState(WithDeadline(&ctx, kDeadline), {}, &state);
    ASSERT_TRUE(s.ok()) << "bob's daemon answers after the load: " << s.error_message();
  }
  const uint64_t last = state.event_seq();
  EXPECT_TRUE(WaitFor([&] {
    for (auto& w : fast) {
      if (w->last_seq() < last) return false;
    }
    return true;
  }));
  for (size_t i = 0; i < fast.size(); ++i) {
    EXPECT_EQ(fast[i]->Problems(), "") << "fast watcher " << i;
    EXPECT_EQ(fast[i]->last_seq(), last) << "fast watcher " << i;
  }

  // The slow watchers were dropped: reading now, each gets what was in
  // flight, then RESOURCE_EXHAUSTED, well before the last event (which the
  // fast ones got after them).
  for (auto& s : slow) s->Drain();
  ASSERT_TRUE(WaitFor([&] {
    for (auto& s : slow) {
      if (!s->done()) return false;
    }
    return true;
  }));
  for (size_t i = 0; i < slow.size(); ++i) {
    EXPECT_EQ(slow[i]->status().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << "slow watcher " << i << ": " << slow[i]->status().error_message();
    EXPECT_LT(slow[i]->last_seq(), last) << "slow watcher " << i;
  }
  EXPECT_TRUE(bob_->daemon().running());

  // The watchers and clients gone, the daemon's descriptors and memory come
  // back to their idle level. Tolerance: RSS may stay above idle by two
  // thirds of what the load added (4 MiB at least). Measured on 2 cores
  // (idle ~29 MiB, +10 MiB under load): without giving memory back
  // (malloc_trim) RSS stays where the load left it (100% of the growth);
  // with it, it falls to 32..48% of the growth (what stays: gRPC's grown
  // thread pool and its caches, partly used pages, SQLite's page cache).
  const ProcStats peak = ReadProcStats(bob_pid);
  fast.clear();
  slow.clear();
  alice.reset();
  bob.reset();
  EXPECT_TRUE(WaitFor([&] { return ReadProcStats(bob_pid).fds <= idle.fds + 2; }))
      << "descriptors: idle " << idle.fds << ", now " << ReadProcStats(bob_pid).fds;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' allocators keep freed memory in quarantine: RSS says
  // nothing about the daemon there.
  std::printf("load: RSS not checked under a sanitizer (idle %ld KiB, under load %ld KiB)\n",
              idle.rss_kib, peak.rss_kib);
#else
  const long tolerance = std::max(4096L, (peak.rss_kib - idle.rss_kib) * 2 / 3);
  std::printf("load: events %lu; RSS idle %ld KiB, under load %ld KiB, tolerance %ld KiB\n",
              static_cast<unsigned long>(last), idle.rss_kib, peak.rss_kib, tolerance);
  EXPECT_TRUE(WaitFor([&] { return ReadProcStats(bob_pid).rss_kib <= idle.rss_kib + tolerance; }))
      << "RSS idle " << idle.rss_kib << " KiB, under load " << peak.rss_kib << " KiB, now "
      << ReadProcStats(bob_pid).rss_kib << " KiB (tolerance " << tolerance << " KiB)";
  std::printf("load: RSS after %ld KiB\n", ReadProcStats(bob_pid).rss_kib);
#endif
}

}  // namespace
}  // namespace callsd::itest
