// Call latencies through real processes (calls-server, alice's and bob's
// callsd), beside a bare grpc++ round trip measured in the same run:
//   ring fan-out: a push handed to bob's daemon (DeliverPush) until each of
//                 100 concurrent watchers has the Ringing event;
//   accept -> connected: bob's Accept until his watcher sees Connected
//                 (the daemon opens its WebSocket, accepts, the server
//                 answers established then connected).
// Targets: fan-out p99 <= 2 ms, accept -> connected p50 <= 5 ms.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_util.h"
#include "bench/echo_server.h"
#include "callsd/client.h"
#include "common/push_signing.h"
#include "common/sqlite_db.h"
#include "common/wire_json.h"

namespace callsd::bench {
namespace {

using callsd::client::Client;
using callsd::client::ClientOptions;

constexpr int kWatchers = 100;
constexpr int kRings = 200;
constexpr int kAccepts = 60;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(s.str()));
}

void Die(const std::string& what) {
  std::fprintf(stderr, "calls_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(absl::StrCat(what, ": ", v.status().ToString()));
  return *std::move(v);
}

// Every watcher's view: when it saw which event for which call.
class Recorder {
 public:
  void Saw(int watcher, const std::string& kind, const std::string& call_id) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    seen_[{kind, call_id}][watcher] = now;
  }
  // Waits until `count` watchers saw `kind` for `call_id`; their times.
  std::vector<absl::Time> Wait(const std::string& kind, const std::string& call_id, int count) {
    absl::MutexLock lock(&mu_);
    const auto key = std::make_pair(kind, call_id);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      auto it = seen_.find(key);
      return it != seen_.end() && static_cast<int>(it->second.size()) >= count;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10))) {
      Die(absl::StrCat("no ", kind, " for call ", call_id, " within 10 s"));
    }
    std::vector<absl::Time> times;
    for (const auto& [w, t] : seen_[key]) times.push_back(t);
    return times;
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::map<int, absl::Time>> seen_
      ABSL_GUARDED_BY(mu_);
};

void Record(Recorder* recorder, int watcher, const callsd::v1::Event& e) {
  if (e.has_ringing()) recorder->Saw(watcher, "ringing", e.ringing().call().call_id());
  if (e.has_connected()) recorder->Saw(watcher, "connected", e.connected().call().call_id());
  if (e.has_ended()) recorder->Saw(watcher, "ended", e.ended().call().call_id());
  if (e.has_snapshot()) recorder->Saw(watcher, "snapshot", "");
}

// A Subscribe stream of the bare echo server, on its own connection.
class EchoReader final : public grpc::ClientReadReactor<callsd::bench::EchoMessage> {
 public:
  EchoReader(const std::string& socket, int index, Recorder* recorder)
      : stub_(ConnectEcho(socket)), index_(index), recorder_(recorder) {
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
    recorder_->Saw(index_, "echo", message_.payload());
    StartRead(&message_);
  }
  void OnDone(const grpc::Status&) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

 private:
  std::unique_ptr<callsd::bench::Echo::Stub> stub_;
  const int index_;
  Recorder* const recorder_;
  grpc::ClientContext ctx_;
  callsd::bench::EchoMessage request_;
  callsd::bench::EchoMessage message_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

void PrintRow(const char* name, Samples& s) {
  std::printf("  %-34s %10.1f %10.1f %8zu\n", name, s.PercentileUs(0.5), s.PercentileUs(0.99),
              s.size());
}

}  // namespace
}  // namespace callsd::bench

int main(int argc, char** argv) {
  using namespace callsd::bench;
  if (argc == 3 && std::string(argv[1]) == "--serve_echo") return ServeEcho(argv[2]);

  char tmpl[] = "/tmp/cdc-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp");
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/demo");
  std::vector<pid_t> children;
  children.push_back(Spawn({CALLS_SERVER_BIN, "--listen=127.0.0.1", "--port=0",
                            "--port_file=" + dir + "/port", "--db=" + dir + "/server.db",
                            "--demo_dir=" + dir + "/demo"},
                           dir + "/server.log"));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Read(dir + "/port").empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const std::string url = "http://127.0.0.1:" + Read(dir + "/port");
  std::map<std::string, std::unique_ptr<callsd::client::Client>> clients;
  for (const std::string user : {"alice", "bob"}) {
    children.push_back(Spawn({CALLSD_BIN, "--socket=" + dir + "/" + user + ".sock",
                              "--state_dir=" + dir + "/" + user, "--server_url=" + url},
                             dir + "/" + user + ".log"));
    if (!WaitForSocket(dir + "/" + user + ".sock")) Die("callsd did not start: see " + dir);
    ClientOptions options;
    options.socket_path = dir + "/" + user + ".sock";
    clients[user] = Must(Client::Connect(options), "connect");
    callsd::v1::InitRequest init;
    init.set_app_id("demo-app");
    Must(clients[user]->Init(init), "init");
    callsd::v1::AuthenticateRequest auth;
    auth.set_user_id(user);
    auth.set_token_kind(callsd::v1::TOKEN_KIND_ACCESS_TOKEN);
    auth.set_token(Read(dir + "/demo/" + user + ".token"));
    Must(clients[user]->Authenticate(auth), "login");
  }
  Client& alice = *clients["alice"];
  Client& bob = *clients["bob"];

  // Bob's push key, to sign pushes as the server would.
  std::string push_key;
  {
    callsd::SqliteDb::Options o;
    o.create = false;
    o.check_integrity = false;
    auto db = Must(callsd::SqliteDb::Open(dir + "/bob/callsd.db", o), "open bob's db");
    auto stmt = Must(db->Prepare("SELECT push_key FROM session"), "read push key");
    if (!*stmt.Step()) Die("bob has no session");
    push_key = stmt.ColumnBlob(0);
  }

  // The baseline: a bare grpc++ round trip on the same machine, same run.
  const pid_t echo_pid = SpawnEchoServer(dir + "/echo.sock", dir + "/echo.log");
  children.push_back(echo_pid);
  if (!WaitForSocket(dir + "/echo.sock")) Die("echo server did not start");
  auto echo = ConnectEcho(dir + "/echo.sock");
  Samples echo_rtt;
  for (int i = 0; i < 3000; ++i) {
    callsd::bench::EchoMessage m;
    m.set_payload(std::string(200, 'x'));
    grpc::ClientContext ctx;
    const absl::Time t0 = absl::Now();
    if (!echo->Echo(&ctx, m, &m).ok()) Die("echo failed");
    if (i >= 500) echo_rtt.Add(absl::Now() - t0);
  }

  // The bare fan-out: a grpc++ server writing one message to kWatchers
  // streams, each on its own connection, like the watchers below.
  Recorder echo_recorder;
  std::vector<std::unique_ptr<EchoReader>> echo_readers;
  for (int w = 0; w < kWatchers; ++w) {
    echo_readers.push_back(std::make_unique<EchoReader>(dir + "/echo.sock", w, &echo_recorder));
  }
  Samples echo_fanout;
  for (int i = 0; i < kRings + 20; ++i) {
    callsd::bench::EchoMessage m;
    m.set_payload(absl::StrCat("m", i));
    grpc::ClientContext ctx;
    const absl::Time t0 = absl::Now();
    callsd::bench::EchoMessage count;
    if (!echo->Publish(&ctx, m, &count).ok()) Die("publish failed");
    if (count.payload() != absl::StrCat(kWatchers)) {  // not all subscribed yet
      --i;
      continue;
    }
    const std::vector<absl::Time> seen = echo_recorder.Wait("echo", m.payload(), kWatchers);
    if (i < 20) continue;  // warm-up
    for (absl::Time t : seen) echo_fanout.Add(t - t0);
  }
  echo_readers.clear();

  // 100 watchers of bob's daemon, each on its own connection.
  Recorder recorder;
  std::vector<std::unique_ptr<Client>> watcher_clients;
  std::vector<std::unique_ptr<callsd::client::Subscription>> subscriptions;
  for (int w = 0; w < kWatchers; ++w) {
    ClientOptions options;
    options.socket_path = dir + "/bob.sock";
    watcher_clients.push_back(Must(Client::Connect(options), "watcher connect"));
    subscriptions.push_back(watcher_clients.back()->Watch(
        [&recorder, w](const callsd::v1::Event& e) { Record(&recorder, w, e); },
        [](absl::Status) {}));
  }
  recorder.Wait("snapshot", "", kWatchers);

  Samples fanout;
  Samples deliver_rtt;
  for (int i = 0; i < kRings + 20; ++i) {
    callsd::wire::v1::PushPayload p;
    p.set_v(1);
    p.set_app_id("demo-app");
    p.set_user_id("bob");
    p.set_type("call.ringing");
    p.set_call_id(absl::StrCat("bench-", i));
    p.mutable_caller()->set_user_id("alice");
    p.set_sent_at(absl::ToUnixMillis(absl::Now()));
    p.set_ttl_s(60);
    callsd::SignPush(&p, push_key);
    callsd::v1::DeliverPushRequest request;
    request.set_payload(callsd::ToJson(p));
    const absl::Time t0 = absl::Now();
    Must(bob.DeliverPush(request), "deliver push");
    const absl::Time t1 = absl::Now();
    const std::vector<absl::Time> seen = recorder.Wait("ringing", p.call_id(), kWatchers);
    // The caller hangs up (a call.canceled push), as callers do: each ring
    // is measured with the one call ringing, not behind hundreds of
    // abandoned ones still ringing (their 60 s timeout outlasts the run).
    p.set_type("call.canceled");
    p.set_sent_at(absl::ToUnixMillis(absl::Now()));
    p.clear_sig();
    callsd::SignPush(&p, push_key);
    request.set_payload(callsd::ToJson(p));
    Must(bob.DeliverPush(request), "deliver cancel push");
    // Its Ended reaches every watcher before the next ring starts, so each
    // ring is measured alone, like each message of the bare fan-out.
    recorder.Wait("ended", p.call_id(), kWatchers);
    if (i < 20) continue;  // warm-up
    deliver_rtt.Add(t1 - t0);
    for (absl::Time t : seen) fanout.Add(t - t0);
  }

  // Accept -> connected, over the WebSocket.
  Samples accept_connected;
  Samples accept_rpc;
  for (int i = 0; i < kAccepts + 5; ++i) {
    callsd::v1::DialRequest dial;
    dial.set_callee_id("bob");
    // Bob's daemon rings from the server's push only when bob registered an
    // endpoint; here the ring comes from DeliverPush's twin: missed-push
    // recovery is slower, so hand the push over directly.
    const std::string call_id = Must(alice.Dial(dial), "dial").call().call_id();
    callsd::wire::v1::PushPayload p;
    p.set_v(1);
    p.set_app_id("demo-app");
    p.set_user_id("bob");
    p.set_type("call.ringing");
    p.set_call_id(call_id);
    p.mutable_caller()->set_user_id("alice");
    p.set_sent_at(absl::ToUnixMillis(absl::Now()));
    p.set_ttl_s(60);
    callsd::SignPush(&p, push_key);
    callsd::v1::DeliverPushRequest push;
    push.set_payload(callsd::ToJson(p));
    Must(bob.DeliverPush(push), "deliver push");
    recorder.Wait("ringing", call_id, 1);
    callsd::v1::AcceptRequest accept;
    accept.set_call_id(call_id);
    const absl::Time t0 = absl::Now();
    Must(bob.Accept(accept), "accept");
    const absl::Time t1 = absl::Now();
    const std::vector<absl::Time> connected = recorder.Wait("connected", call_id, 1);
    if (i >= 5) {
      accept_rpc.Add(t1 - t0);
      accept_connected.Add(connected.front() - t0);
    }
    callsd::v1::EndRequest end;
    end.set_call_id(call_id);
    Must(alice.End(end), "end");
    recorder.Wait("ended", call_id, 1);
  }

  const double fan99 = fanout.PercentileUs(0.99);
  const double acc50 = accept_connected.PercentileUs(0.5);
  std::printf("\nCalls through real processes (%d watchers on bob's daemon)\n", kWatchers);
  std::printf("  %-34s %10s %10s %8s\n", "", "p50 (us)", "p99 (us)", "samples");
  PrintRow("bare grpc++ round trip", echo_rtt);
  PrintRow("bare grpc++ fan-out to each stream", echo_fanout);
  PrintRow("DeliverPush round trip", deliver_rtt);
  PrintRow("push -> Ringing at each watcher", fanout);
  PrintRow("Accept round trip", accept_rpc);
  PrintRow("Accept -> Connected (over ws)", accept_connected);
  std::printf("  targets: ring fan-out p99 <= 2000 us: %s (%.0f); accept -> connected p50 <= "
              "5000 us: %s (%.0f)\n",
              fan99 <= 2000 ? "met" : "NOT MET", fan99, acc50 <= 5000 ? "met" : "NOT MET", acc50);

  subscriptions.clear();
  watcher_clients.clear();
  clients.clear();
  for (pid_t pid : children) StopChild(pid);
  if (getenv("CALLS_BENCH_KEEP") == nullptr) std::filesystem::remove_all(dir);
  return 0;
}
