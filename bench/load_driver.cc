// Load on one daemon through real processes (calls-server, alice's and
// bob's callsd): for --duration_s (60 by default) bob's daemon serves
//   --watchers WatchEvents streams (1,000), each on its own connection, of
//     which --slow_watchers never read (their HTTP/2 window is tiny, so the
//     daemon's writes to them stall at once);
//   --clients clients (300), each on its own connection, issuing mixed RPCs
//     (GetState, ListCalls, GetCallHistory, ListPushTokens, Accept, Decline,
//     End, Dial) with --think_ms between them;
//   a caller (alice) whose calls ring bob by real pushes and end (canceled,
//     declined, or accepted then ended) one after the other.
// Printed: RPCs per second; latency p50/p99/max per kind; answered and
// unanswered RPCs per status; events each fast watcher got against those
// published (gaps, order); how the slow watchers were dropped; bob's
// daemon's RSS, threads and fds idle / at peak / after. The baseline beside
// it: a bare grpc++ echo server under the same clients and watchers.
//
//   load_driver [--duration_s=60] [--watchers=1000] [--slow_watchers=5]
//               [--clients=300] [--think_ms=20] [--baseline_s=15] [--watcher_queue=256]
// (CALLS_BENCH_KEEP=1 keeps the temporary folder with the logs.)
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "bench/echo_server.h"
#include "callsd/v1/callsd.grpc.pb.h"
#include "tests/load/load_clients.h"

namespace callsd::bench {
namespace {

using callsd::load::CurrentCall;
using callsd::load::OwnChannel;
using callsd::load::ProcStats;
using callsd::load::ReadProcStats;
using callsd::load::SlowWatcher;
using callsd::load::Watcher;
using callsd::load::WithDeadline;
using callsd::v1::Calls;

// Every RPC's deadline: longer than any timeout of the daemon's own.
constexpr absl::Duration kDeadline = absl::Seconds(30);

struct Options {
  int duration_s = 60;
  int watchers = 1000;
  int slow_watchers = 5;
  int clients = 300;
  int think_ms = 20;
  int baseline_s = 15;
  // bob's daemon.watcher_queue (1,024 by default; smaller, so that the
  // slow watchers are dropped within the run).
  int watcher_queue = 256;
};

// The processes started, stopped on the way out (also by Die).
std::vector<pid_t> children;

void Die(const std::string& what) {
  std::fprintf(stderr, "load_driver: %s\n", what.c_str());
  for (pid_t pid : children) StopChild(pid);
  std::exit(1);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  const std::map<std::string, int*> ints = {
      {"--duration_s", &o.duration_s}, {"--watchers", &o.watchers},
      {"--slow_watchers", &o.slow_watchers}, {"--clients", &o.clients},
      {"--think_ms", &o.think_ms}, {"--baseline_s", &o.baseline_s},
      {"--watcher_queue", &o.watcher_queue}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    auto it = ints.find(arg.substr(0, eq));
    if (eq == std::string::npos || it == ints.end() ||
        !absl::SimpleAtoi(arg.substr(eq + 1), it->second) || *it->second < 0) {
      Die("unknown or bad argument " + arg +
          " (--duration_s= --watchers= --slow_watchers= --clients= --think_ms= --baseline_s= "
          "--watcher_queue=)");
    }
  }
  if (o.slow_watchers >= o.watchers) Die("--slow_watchers must be below --watchers");
  return o;
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(s.str()));
}

// Per RPC kind: latencies and status counts, merged from every client.
class Tally {
 public:
  void Add(const std::string& kind, absl::Duration latency, const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    samples_[kind].Add(latency);
    codes_[kind][status.error_code()]++;
    if (Unanswered(status.error_code()) || Unexpected(status.error_code())) {
      messages_.emplace(absl::StrCat(kind, ", code ", status.error_code()),
                        status.error_message());
    }
    ++total_;
  }
  // An RPC that got no answer within the client's deadline (30 s, longer
  // than any timeout of the daemon's own).
  static bool Unanswered(grpc::StatusCode code) {
    return code == grpc::StatusCode::DEADLINE_EXCEEDED;
  }
  // Answers no client should get under load.
  static bool Unexpected(grpc::StatusCode code) {
    return code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
           code == grpc::StatusCode::RESOURCE_EXHAUSTED || code == grpc::StatusCode::UNAVAILABLE;
  }
  long total() {
    absl::MutexLock lock(&mu_);
    return total_;
  }
  // Prints the table; the number of unanswered and unexpected answers.
  long Print(double seconds) {
    absl::MutexLock lock(&mu_);
    long unanswered = 0;
    long unexpected = 0;
    std::printf("    %-16s %9s %9s %9s %9s  %s\n", "kind", "count", "p50 us", "p99 us", "max us",
                "statuses (code:count)");
    for (auto& [kind, s] : samples_) {
      std::string codes;
      for (const auto& [code, n] : codes_[kind]) {
        absl::StrAppend(&codes, codes.empty() ? "" : " ", static_cast<int>(code), ":", n);
        if (Unanswered(code)) unanswered += n;
        if (Unexpected(code)) unexpected += n;
      }
      std::printf("    %-16s %9zu %9.0f %9.0f %9.0f  %s\n", kind.c_str(), s.size(),
                  s.PercentileUs(0.5), s.PercentileUs(0.99), s.PercentileUs(1.0), codes.c_str());
    }
    std::printf("    %ld RPCs in %.1f s: %.0f RPC/s; unanswered (30 s deadline): %ld; "
                "unexpected answers (UNAVAILABLE, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED): %ld\n",
                total_, seconds, total_ / seconds, unanswered, unexpected);
    for (const auto& [what, message] : messages_) {
      std::printf("      first %s: %s\n", what.c_str(), message.c_str());
    }
    return unanswered + unexpected;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, Samples> samples_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<grpc::StatusCode, long>> codes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> messages_ ABSL_GUARDED_BY(mu_);
  long total_ ABSL_GUARDED_BY(mu_) = 0;
};

// Samples a process's RSS, threads and fds every 100 ms; keeps the peaks.
class Sampler {
 public:
  explicit Sampler(pid_t pid) : pid_(pid), thread_([this] { Run(); }) {}
  ~Sampler() {
    stop_ = true;
    thread_.join();
  }
  ProcStats peak() {
    absl::MutexLock lock(&mu_);
    return peak_;
  }

 private:
  void Run() {
    while (!stop_) {
      const ProcStats s = ReadProcStats(pid_);
      {
        absl::MutexLock lock(&mu_);
        peak_.rss_kib = std::max(peak_.rss_kib, s.rss_kib);
        peak_.threads = std::max(peak_.threads, s.threads);
        peak_.fds = std::max(peak_.fds, s.fds);
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  const pid_t pid_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  ProcStats peak_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// Waits until `pid` holds at most `fds` descriptors (its clients are gone),
// then until its RSS stops falling; the stats then.
ProcStats SettledStats(pid_t pid, long fds) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ReadProcStats(pid).fds > fds && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ProcStats last = ReadProcStats(pid);
  for (int i = 0; i < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(500));
    const ProcStats now = ReadProcStats(pid);
    if (now.rss_kib >= last.rss_kib && i >= 3) return now;
    last = now;
  }
  return last;
}

void PrintStats(const char* name, const ProcStats& idle, const ProcStats& peak,
                const ProcStats& after) {
  std::printf("    %-22s RSS idle %ld KiB, peak %ld KiB, after %ld KiB (after - idle %+ld KiB)\n",
              name, idle.rss_kib, peak.rss_kib, after.rss_kib, after.rss_kib - idle.rss_kib);
  std::printf("    %-22s threads %ld / %ld / %ld; fds %ld / %ld / %ld\n", "", idle.threads,
              peak.threads, after.threads, idle.fds, peak.fds, after.fds);
}

struct RingStats {
  long cycles = 0;
  long not_rung = 0;    // no Ringing at bob's monitor within 10 s of the Dial
  long not_ended = 0;   // no Ended within 10 s of the End
  Samples dial_to_ringing;
};

// Alice calls bob over and over: the server pushes to bob's endpoint, bob's
// daemon rings; the call is then canceled by alice, declined by bob, or
// accepted by bob and ended by alice, in turn.
void RunCaller(const std::string& alice_socket, const std::string& bob_socket,
               Watcher* monitor, CurrentCall* current, Tally* tally, RingStats* stats,
               const std::atomic<bool>* stop) {
  auto alice = Calls::NewStub(OwnChannel(alice_socket));
  auto bob = Calls::NewStub(OwnChannel(bob_socket));
  for (long cycle = 0; !*stop; ++cycle) {
    callsd::v1::DialRequest dial;
    dial.set_callee_id("bob");
    callsd::v1::DialResponse dialed;
    grpc::ClientContext dial_ctx;
    const absl::Time t0 = absl::Now();
    const grpc::Status s = alice->Dial(WithDeadline(&dial_ctx, kDeadline), dial, &dialed);
    tally->Add("caller Dial", absl::Now() - t0, s);
    if (!s.ok()) {
      absl::SleepFor(absl::Milliseconds(100));  // pacing after a refusal, not a wait
      continue;
    }
    const std::string id = dialed.call().call_id();
    if (auto rang = monitor->Wait("ringing", id, absl::Seconds(10))) {
      stats->dial_to_ringing.Add(*rang - t0);
      current->Set(id);
    } else {
      ++stats->not_rung;
    }
    grpc::ClientContext ctx;
    if (cycle % 3 == 1) {
      callsd::v1::DeclineRequest q;
      q.set_call_id(id);
      callsd::v1::DeclineResponse r;
      bob->Decline(WithDeadline(&ctx, kDeadline), q, &r);
    } else if (cycle % 3 == 2) {
      callsd::v1::AcceptRequest q;
      q.set_call_id(id);
      callsd::v1::AcceptResponse r;
      if (bob->Accept(WithDeadline(&ctx, kDeadline), q, &r).ok()) {
        monitor->Wait("connected", id, absl::Seconds(10));
      }
    }
    // Alice hangs up (an error when it already ended).
    callsd::v1::EndRequest end;
    end.set_call_id(id);
    callsd::v1::EndResponse ended;
    grpc::ClientContext end_ctx;
    alice->End(WithDeadline(&end_ctx, kDeadline), end, &ended);
    if (!monitor->Wait("ended", id, absl::Seconds(10))) ++stats->not_ended;
    current->Set("");
    ++stats->cycles;
  }
}

grpc::Status Unary(const char* what, std::function<grpc::Status(grpc::ClientContext*)> rpc) {
  grpc::ClientContext ctx;
  const grpc::Status s = rpc(WithDeadline(&ctx, kDeadline));
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.error_message()));
  return s;
}

pid_t StartDaemon(const std::string& dir, const std::string& user, const std::string& url,
                  std::vector<std::string> extra) {
  std::vector<std::string> argv = {CALLSD_BIN, "--socket=" + dir + "/" + user + ".sock",
                                   "--state_dir=" + dir + "/" + user, "--server_url=" + url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const pid_t pid = Spawn(argv, dir + "/" + user + ".log");
  children.push_back(pid);
  if (!WaitForSocket(dir + "/" + user + ".sock")) Die("callsd did not start: see " + dir);
  auto stub = Calls::NewStub(OwnChannel(dir + "/" + user + ".sock"));
  callsd::v1::InitRequest init;
  init.set_app_id("demo-app");
  callsd::v1::InitResponse init_r;
  Unary("init", [&](auto* c) { return stub->Init(c, init, &init_r); });
  callsd::v1::AuthenticateRequest auth;
  auth.set_user_id(user);
  auth.set_token_kind(callsd::v1::TOKEN_KIND_ACCESS_TOKEN);
  auth.set_token(ReadTrimmed(dir + "/demo/" + user + ".token"));
  callsd::v1::AuthenticateResponse auth_r;
  Unary("login", [&](auto* c) { return stub->Authenticate(c, auth, &auth_r); });
  return pid;
}

// Waits up to `timeout` for `done` to hold, checking every 50 ms.
bool Await(absl::Duration timeout, const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return true;
}

// The daemon run; returns false when a check failed.
bool RunDaemonLoad(const Options& o, const std::string& dir, pid_t bob_pid, double* events_per_s) {
  const std::string bob_socket = dir + "/bob.sock";
  const std::string alice_socket = dir + "/alice.sock";
  bool ok = true;
  const ProcStats idle = SettledStats(bob_pid, 1 << 20);

  std::printf("\ncallsd under load: %d watchers (%d never read; watcher_queue %d), %d clients "
              "(think 0..%d ms), %d s\n",
              o.watchers, o.slow_watchers, o.watcher_queue, o.clients, 2 * o.think_ms,
              o.duration_s);
  Sampler sampler(bob_pid);
  std::vector<std::unique_ptr<Watcher>> watchers;
  std::vector<std::unique_ptr<SlowWatcher>> slow;
  const absl::Time connect0 = absl::Now();
  for (int w = 0; w < o.watchers - o.slow_watchers; ++w) {
    watchers.push_back(std::make_unique<Watcher>(bob_socket, /*monitor=*/w == 0));
  }
  for (int w = 0; w < o.slow_watchers; ++w) slow.push_back(std::make_unique<SlowWatcher>(bob_socket));
  if (!Await(absl::Seconds(120), [&] {
        for (auto& w : watchers) {
          if (!w->view().snapshot) return false;
        }
        return true;
      })) {
    Die("not every watcher got its snapshot within 120 s");
  }
  std::printf("    %zu fast watchers had their snapshot %.1f s after the first connect\n",
              watchers.size(), absl::ToDoubleSeconds(absl::Now() - connect0));

  Tally tally;
  CurrentCall current;
  RingStats ring;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const absl::Time t0 = absl::Now();
  uint64_t seq0 = 0;
  {
    auto stub = Calls::NewStub(OwnChannel(bob_socket));
    callsd::v1::State st;
    Unary("GetState", [&](auto* c) { return stub->GetState(c, {}, &st); });
    seq0 = st.event_seq();
  }
  // The first fast watcher tells the caller when bob's daemon got there.
  threads.emplace_back(RunCaller, alice_socket, bob_socket, watchers.front().get(), &current,
                       &tally, &ring, &stop);
  const callsd::load::ClientOptions client{.deadline = kDeadline, .think_ms = o.think_ms};
  const callsd::load::RpcResult record = [&](const std::string& kind, absl::Duration latency,
                                             const grpc::Status& status) {
    tally.Add(kind, latency, status);
  };
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back(callsd::load::RunClient, bob_socket, c, std::cref(client), &current,
                         std::cref(record), &stop);
  }
  absl::SleepFor(absl::Seconds(o.duration_s));  // the load runs for this long
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);

  uint64_t final_seq = 0;
  {
    auto stub = Calls::NewStub(OwnChannel(bob_socket));
    callsd::v1::State st;
    Unary("GetState", [&](auto* c) { return stub->GetState(c, {}, &st); });
    final_seq = st.event_seq();
  }
  *events_per_s = (final_seq - seq0) / seconds;
  std::printf("  RPCs (clients and the caller):\n");
  if (tally.Print(seconds) > 0) ok = false;
  std::printf("  calls: %ld rang and ended (%.1f/s); dial -> ringing at bob p50 %.0f us, p99 %.0f "
              "us; not rung %ld, not ended %ld\n",
              ring.cycles, ring.cycles / seconds, ring.dial_to_ringing.PercentileUs(0.5),
              ring.dial_to_ringing.PercentileUs(0.99), ring.not_rung, ring.not_ended);
  if (ring.not_rung + ring.not_ended > 0) ok = false;

  // Every fast watcher catches up with the last event, in order, no gap.
  const bool caught_up = Await(absl::Seconds(60), [&] {
    for (auto& w : watchers) {
      const Watcher::View v = w->view();
      if (!v.done && v.last_seq < final_seq) return false;
    }
    return true;
  });
  uint64_t min_events = UINT64_MAX, max_events = 0, gaps = 0, errors = 0, ended = 0;
  for (auto& w : watchers) {
    const Watcher::View v = w->view();
    const uint64_t expected = final_seq - v.first_seq;
    min_events = std::min<uint64_t>(min_events, v.events);
    max_events = std::max<uint64_t>(max_events, v.events);
    gaps += v.gaps + (expected - std::min(expected, v.events + v.gaps));
    errors += v.errors;
    if (v.done) ++ended;
  }
  std::printf("  events: %lu published during the load (%.1f/s), last seq %lu\n",
              static_cast<unsigned long>(final_seq - seq0), *events_per_s,
              static_cast<unsigned long>(final_seq));
  std::printf("    fast watchers: %zu, each got %lu..%lu events after its snapshot; missing %lu, "
              "out of order or repeated %lu, streams ended early %lu; all caught up: %s\n",
              watchers.size(), static_cast<unsigned long>(min_events),
              static_cast<unsigned long>(max_events), static_cast<unsigned long>(gaps),
              static_cast<unsigned long>(errors), static_cast<unsigned long>(ended),
              caught_up ? "yes" : "NO");
  if (gaps + errors + ended > 0 || !caught_up) ok = false;

  // The slow watchers read now: what the daemon left them, and its status.
  for (auto& s : slow) s->Drain();
  for (size_t i = 0; i < slow.size(); ++i) {
    const bool done = slow[i]->WaitDone(absl::Seconds(20));
    std::printf("    slow watcher %zu: %s%s\n", i, slow[i]->Describe().c_str(),
                done ? "" : " (NOT ended within 20 s of reading)");
    if (!done || slow[i]->code() != grpc::StatusCode::RESOURCE_EXHAUSTED) ok = false;
  }
  {
    std::ifstream log(dir + "/bob.log");
    std::string line;
    int shown = 0;
    while (std::getline(log, line)) {
      if (line.find("dropping a watcher") != std::string::npos && shown++ < o.slow_watchers + 3) {
        std::printf("    daemon log: %s\n", line.c_str());
      }
    }
    std::printf("    daemon log: %d watcher(s) dropped in all\n", shown);
  }
  const ProcStats peak = sampler.peak();
  watchers.clear();
  slow.clear();
  const ProcStats after = SettledStats(bob_pid, idle.fds + 2);
  std::printf("  bob's callsd:\n");
  PrintStats("callsd", idle, peak, after);
  return ok;
}

// A Subscribe stream of the echo server that counts what it reads.
class EchoReader final : public grpc::ClientReadReactor<EchoMessage> {
 public:
  explicit EchoReader(const std::string& socket)
      : stub_(Echo::NewStub(OwnChannel(socket))) {
    stub_->async()->Subscribe(&ctx_, &request_, this);
    StartRead(&message_);
    StartCall();
  }
  ~EchoReader() override {
    ctx_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    read_++;
    StartRead(&message_);
  }
  void OnDone(const grpc::Status&) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  long read() const { return read_; }

 private:
  std::unique_ptr<Echo::Stub> stub_;
  grpc::ClientContext ctx_;
  EchoMessage request_;
  EchoMessage message_;
  std::atomic<long> read_{0};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// The same clients and watchers against a bare grpc++ server, publishing
// at the daemon's event rate.
void RunBaseline(const Options& o, const std::string& dir, double events_per_s) {
  if (o.baseline_s == 0) return;
  const std::string socket = dir + "/echo.sock";
  const pid_t pid = SpawnEchoServer(socket, dir + "/echo.log");
  children.push_back(pid);
  if (!WaitForSocket(socket)) Die("echo server did not start");
  const ProcStats idle = SettledStats(pid, 1 << 20);
  std::printf("\nbaseline, bare grpc++ echo server: %d subscribers, %d clients (Echo, think "
              "0..%d ms), Publish at %.1f/s, %d s\n",
              o.watchers, o.clients, 2 * o.think_ms, events_per_s, o.baseline_s);
  Sampler sampler(pid);
  std::vector<std::unique_ptr<EchoReader>> readers;
  for (int w = 0; w < o.watchers; ++w) readers.push_back(std::make_unique<EchoReader>(socket));
  Tally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::atomic<long> published{0};
  threads.emplace_back([&] {
    auto stub = Echo::NewStub(OwnChannel(socket));
    const absl::Duration every = absl::Seconds(1.0 / std::max(events_per_s, 1.0));
    while (!stop) {
      EchoMessage m;
      m.set_payload(std::string(150, 'e'));
      grpc::ClientContext ctx;
      const absl::Time t0 = absl::Now();
      const grpc::Status s = stub->Publish(WithDeadline(&ctx, kDeadline), m, &m);
      tally.Add("Publish", absl::Now() - t0, s);
      if (s.ok() && m.payload() == absl::StrCat(o.watchers)) ++published;
      absl::SleepFor(every);
    }
  });
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = Echo::NewStub(OwnChannel(socket));
      std::mt19937 rng(c);
      std::uniform_int_distribution<int> think(0, 2 * o.think_ms);
      while (!stop) {
        EchoMessage m;
        m.set_payload(std::string(200, 'x'));
        grpc::ClientContext ctx;
        const absl::Time t0 = absl::Now();
        const grpc::Status s = stub->Echo(WithDeadline(&ctx, kDeadline), m, &m);
        tally.Add("Echo", absl::Now() - t0, s);
        if (o.think_ms > 0) absl::SleepFor(absl::Milliseconds(think(rng)));
      }
    });
  }
  const absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(o.baseline_s));
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  tally.Print(seconds);
  Await(absl::Seconds(30), [&] {
    for (auto& r : readers) {
      if (r->read() < published) return false;
    }
    return true;
  });
  long min_read = LONG_MAX;
  for (auto& r : readers) min_read = std::min(min_read, r->read());
  std::printf("    published to all %d: %ld; fewest read by a subscriber: %ld\n", o.watchers,
              published.load(), min_read);
  const ProcStats peak = sampler.peak();
  readers.clear();
  const ProcStats after = SettledStats(pid, idle.fds + 2);
  PrintStats("echo server", idle, peak, after);
}

}  // namespace
}  // namespace callsd::bench

int main(int argc, char** argv) {
  using namespace callsd::bench;
  if (argc == 3 && std::string(argv[1]) == "--serve_echo") return ServeEcho(argv[2]);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when redirected
  const Options o = ParseOptions(argc, argv);
  // Every watcher and client has its own connection: this process and its
  // children (which inherit the limit) need more than 1,024 descriptors.
  const long fd_limit = RaiseFdLimit();
  if (fd_limit < 2 * (o.watchers + o.clients) + 100) {
    Die(absl::StrCat("RLIMIT_NOFILE is ", fd_limit, ": too low for ", o.watchers, " watchers and ",
                     o.clients, " clients"));
  }

  char tmpl[] = "/tmp/cdl-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp");
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/demo");
  children.push_back(Spawn({CALLS_SERVER_BIN, "--listen=127.0.0.1", "--port=0",
                            "--port_file=" + dir + "/port", "--db=" + dir + "/server.db",
                            "--demo_dir=" + dir + "/demo"},
                           dir + "/server.log"));
  if (!Await(absl::Seconds(20), [&] { return !ReadTrimmed(dir + "/port").empty(); })) {
    Die("calls-server did not start: see " + dir);
  }
  const std::string url = "http://127.0.0.1:" + ReadTrimmed(dir + "/port");
  StartDaemon(dir, "alice", url, {});
  // Bob's daemon takes pushes on its built-in endpoint, registered as his
  // voip token: alice's calls ring it the way they would in production.
  const pid_t bob = StartDaemon(dir, "bob", url,
                                {"--set=push.endpoint = \"127.0.0.1:0\"",
                                 absl::StrCat("--set=daemon.watcher_queue = ", o.watcher_queue)});
  {
    auto stub = Calls::NewStub(OwnChannel(dir + "/bob.sock"));
    callsd::v1::State st;
    Unary("GetState", [&](auto* c) { return stub->GetState(c, {}, &st); });
    callsd::v1::RegisterPushTokenRequest reg;
    reg.set_type(callsd::v1::PUSH_TOKEN_TYPE_VOIP);
    reg.set_token(st.push_endpoint_url());
    reg.set_unique(true);
    callsd::v1::RegisterPushTokenResponse reg_r;
    Unary("register push endpoint", [&](auto* c) { return stub->RegisterPushToken(c, reg, &reg_r); });
  }

  std::printf("load_driver: fd limit %ld; folder %s\n", fd_limit, dir.c_str());
  double events_per_s = 0;
  const bool ok = RunDaemonLoad(o, dir, bob, &events_per_s);
  RunBaseline(o, dir, events_per_s);
  std::printf("\nchecks (every RPC answered, every event in order at every fast watcher, slow "
              "watchers dropped with RESOURCE_EXHAUSTED): %s\n",
              ok ? "passed" : "FAILED");

  for (pid_t pid : children) StopChild(pid);
  if (getenv("CALLS_BENCH_KEEP") == nullptr) std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
