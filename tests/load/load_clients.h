// Client-side pieces of a load on one callsd, shared by the short load test
// (tests/integration/load_test) and the long run (bench/load_driver): own
// connections, fast and slow WatchEvents streams, the mixed-RPC client
// loop, and what a process holds according to /proc.
#ifndef CALLSD_TESTS_LOAD_LOAD_CLIENTS_H_
#define CALLSD_TESTS_LOAD_LOAD_CLIENTS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "callsd/v1/callsd.grpc.pb.h"

namespace callsd::load {

// A channel with a connection of its own (channels with equal arguments
// share one by default; separate client processes would not). `window_bytes`
// > 0: that small an HTTP/2 stream window and no BDP probing, so that the
// daemon's writes to a stream nobody reads stall almost at once.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& socket, int window_bytes = 0);

// Sets a deadline `timeout` from now on `ctx`; returns `ctx`.
grpc::ClientContext* WithDeadline(grpc::ClientContext* ctx, absl::Duration timeout);

// A WatchEvents stream that reads every event and checks the sequence: one
// snapshot first, then seq + 1 each time. With `monitor`, it also keeps
// when it saw ringing/connected/ended for each call, for a caller to wait on
// (only one watcher needs that: the table grows with every call).
class Watcher final : public grpc::ClientReadReactor<callsd::v1::Event> {
 public:
  explicit Watcher(const std::string& socket, bool monitor = false);
  ~Watcher() override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  struct View {
    bool snapshot, done;
    uint64_t first_seq, last_seq, events, gaps, errors;
    grpc::Status status;
  };
  View view();
  bool has_snapshot() { return view().snapshot; }
  uint64_t last_seq() { return view().last_seq; }
  // "" when the stream is healthy: open, in order, no gap.
  std::string Problems();

  // Monitor only: whether / when `kind` was seen for `call_id` (waiting up
  // to `timeout`).
  bool Saw(const std::string& kind, const std::string& call_id);
  std::optional<absl::Time> Wait(const std::string& kind, const std::string& call_id,
                                 absl::Duration timeout);

 private:
  void Check(const callsd::v1::Event& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Problem(std::string what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<callsd::v1::Calls::Stub> stub_;
  const bool monitor_;
  grpc::ClientContext ctx_;
  callsd::v1::WatchEventsRequest request_;
  callsd::v1::Event event_;
  absl::Mutex mu_;
  bool snapshot_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t first_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t events_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t gaps_ ABSL_GUARDED_BY(mu_) = 0;    // events skipped
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;  // out of order, repeated, misplaced snapshot
  // The first few gaps and errors, described (a broken stream could
  // otherwise fill memory with them).
  std::vector<std::string> problems_ ABSL_GUARDED_BY(mu_);
  uint64_t problems_left_out_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::pair<std::string, std::string>, absl::Time> seen_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// A WatchEvents stream that reads nothing until Drain(): then it reads what
// the daemon still sends it, and the status it ended the stream with.
class SlowWatcher final : public grpc::ClientReadReactor<callsd::v1::Event> {
 public:
  explicit SlowWatcher(const std::string& socket);
  ~SlowWatcher() override;
  void Drain();
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  bool done();
  bool WaitDone(absl::Duration timeout);
  grpc::Status status();
  grpc::StatusCode code() { return status().error_code(); }
  uint64_t last_seq();
  // "read N messages (last seq S), then status C "message"".
  std::string Describe();

 private:
  std::unique_ptr<callsd::v1::Calls::Stub> stub_;
  grpc::ClientContext ctx_;
  callsd::v1::WatchEventsRequest request_;
  callsd::v1::Event event_;
  std::atomic<bool> draining_{false};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t read_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// The call that rings bob right now ("" between calls), for the clients'
// Accept/Decline/End to race on.
class CurrentCall {
 public:
  void Set(std::string id);
  std::string Get();

 private:
  absl::Mutex mu_;
  std::string id_ ABSL_GUARDED_BY(mu_);
};

struct ClientOptions {
  absl::Duration deadline = absl::Seconds(30);  // per RPC
  int think_ms = 0;  // pause between RPCs: uniform in 0..2 * think_ms
  // Whether End races on the ringing call too (beside Accept and Decline).
  // Two Ends of one connected call at once leave the second waiting for the
  // server's answer until request_timeout_ms (the WebSocket closes with the
  // call): fine for the bench's 30 s deadline, not for a short test.
  bool end_in_race = true;
};

// What one RPC of a client got: its kind ("GetState", ...), how long it
// took, its status.
using RpcResult =
    std::function<void(const std::string& kind, absl::Duration latency, const grpc::Status&)>;

// One client of `socket` (the callee's daemon), on its own connection:
// mixed RPCs until `stop` (per mille: 30% GetState, 20% ListCalls, 15%
// GetCallHistory, 10% ListPushTokens; ~25% Accept/Decline(/End) of the
// current call, when one rings; the rest Dial "alice" and End at once).
// `index` seeds the choices.
void RunClient(const std::string& socket, int index, const ClientOptions& o,
               CurrentCall* current, const RpcResult& result, const std::atomic<bool>* stop);

// What a process holds, from /proc/PID/status and /proc/PID/fd.
struct ProcStats {
  long rss_kib = 0;
  long threads = 0;
  long fds = 0;
};
ProcStats ReadProcStats(pid_t pid);

}  // namespace callsd::load

#endif  // CALLSD_TESTS_LOAD_LOAD_CLIENTS_H_
