#include "tests/load/load_clients.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace callsd::load {

using callsd::v1::Calls;
using callsd::v1::Event;

std::shared_ptr<grpc::Channel> OwnChannel(const std::string& socket, int window_bytes) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (window_bytes > 0) {
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, window_bytes);
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
  return grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
}

grpc::ClientContext* WithDeadline(grpc::ClientContext* ctx, absl::Duration timeout) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

Watcher::Watcher(const std::string& socket, bool monitor)
    : stub_(Calls::NewStub(OwnChannel(socket))), monitor_(monitor) {
  stub_->async()->WatchEvents(&ctx_, &request_, this);
  StartRead(&event_);
  StartCall();
}

Watcher::~Watcher() {
  ctx_.TryCancel();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&done_));
}

void Watcher::OnReadDone(bool ok) {
  if (!ok) return;
  {
    absl::MutexLock lock(&mu_);
    Check(event_);
    if (monitor_) {
      const absl::Time now = absl::Now();
      if (event_.has_ringing()) seen_[{"ringing", event_.ringing().call().call_id()}] = now;
      if (event_.has_connected()) seen_[{"connected", event_.connected().call().call_id()}] = now;
      if (event_.has_ended()) seen_[{"ended", event_.ended().call().call_id()}] = now;
    }
  }
  StartRead(&event_);
}

void Watcher::Check(const Event& e) {
  const uint64_t seq = e.seq();
  if (e.has_snapshot()) {
    if (!snapshot_) {
      snapshot_ = true;
      first_seq_ = last_seq_ = seq;
    } else {
      ++errors_;
      Problem("a second snapshot");
    }
  } else if (!snapshot_) {
    ++errors_;
    Problem(absl::StrCat("event ", seq, " before the snapshot"));
  } else if (seq <= last_seq_) {
    ++errors_;
    Problem(absl::StrCat("event ", seq, " after ", last_seq_));
  } else {
    if (seq != last_seq_ + 1) {
      gaps_ += seq - last_seq_ - 1;
      Problem(absl::StrCat("event ", seq, " after ", last_seq_));
    }
    last_seq_ = seq;
    ++events_;
  }
}

void Watcher::Problem(std::string what) {
  if (problems_.size() < 10) {
    problems_.push_back(std::move(what));
  } else {
    ++problems_left_out_;
  }
}

void Watcher::OnDone(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  done_ = true;
  status_ = status;
}

Watcher::View Watcher::view() {
  absl::MutexLock lock(&mu_);
  return {snapshot_, done_, first_seq_, last_seq_, events_, gaps_, errors_, status_};
}

std::string Watcher::Problems() {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& p : problems_) absl::StrAppend(&out, p, "; ");
  if (problems_left_out_ > 0) absl::StrAppend(&out, problems_left_out_, " more; ");
  if (done_) {
    absl::StrAppend(&out, "ended with ", status_.error_code(), " ", status_.error_message());
  }
  return out;
}

bool Watcher::Saw(const std::string& kind, const std::string& call_id) {
  absl::MutexLock lock(&mu_);
  return seen_.count({kind, call_id}) > 0;
}

std::optional<absl::Time> Watcher::Wait(const std::string& kind, const std::string& call_id,
                                        absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto key = std::make_pair(kind, call_id);
  auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seen_.count(key) > 0; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&seen), timeout)) return std::nullopt;
  return seen_[key];
}

SlowWatcher::SlowWatcher(const std::string& socket)
    : stub_(Calls::NewStub(OwnChannel(socket, /*window_bytes=*/64))) {
  stub_->async()->WatchEvents(&ctx_, &request_, this);
  AddHold();  // Drain() starts the first read, from outside a reaction
  StartCall();
}

SlowWatcher::~SlowWatcher() {
  ctx_.TryCancel();
  Drain();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&done_));
}

void SlowWatcher::Drain() {
  if (draining_.exchange(true)) return;
  StartRead(&event_);
  RemoveHold();
}

void SlowWatcher::OnReadDone(bool ok) {
  if (!ok) return;
  {
    absl::MutexLock lock(&mu_);
    ++read_;
    last_seq_ = event_.seq();
  }
  StartRead(&event_);
}

void SlowWatcher::OnDone(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  done_ = true;
  status_ = status;
}

bool SlowWatcher::done() {
  absl::MutexLock lock(&mu_);
  return done_;
}

bool SlowWatcher::WaitDone(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
}

grpc::Status SlowWatcher::status() {
  absl::MutexLock lock(&mu_);
  return status_;
}

uint64_t SlowWatcher::last_seq() {
  absl::MutexLock lock(&mu_);
  return last_seq_;
}

std::string SlowWatcher::Describe() {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("read ", read_, " messages (last seq ", last_seq_, "), then status ",
                      status_.error_code(), " \"", status_.error_message(), "\"");
}

void CurrentCall::Set(std::string id) {
  absl::MutexLock lock(&mu_);
  id_ = std::move(id);
}

std::string CurrentCall::Get() {
  absl::MutexLock lock(&mu_);
  return id_;
}

void RunClient(const std::string& socket, int index, const ClientOptions& o,
               CurrentCall* current, const RpcResult& result, const std::atomic<bool>* stop) {
  auto stub = Calls::NewStub(OwnChannel(socket));
  std::mt19937 rng(index);
  std::uniform_int_distribution<int> pick(0, 999);  // per mille
  std::uniform_int_distribution<int> think(0, 2 * o.think_ms);
  auto timed = [&](const char* kind, auto rpc) {
    grpc::ClientContext ctx;
    WithDeadline(&ctx, o.deadline);
    const absl::Time t0 = absl::Now();
    const grpc::Status status = rpc(&ctx);
    result(kind, absl::Now() - t0, status);
    return status;
  };
  // Without End in the race, Accept and Decline take its share.
  const int race_until = o.end_in_race ? 997 : 995;
  const int accept_until = o.end_in_race ? 800 : 870;
  const int decline_until = o.end_in_race ? 900 : race_until;
  while (!*stop) {
    const int p = pick(rng);
    if (p < 300) {
      callsd::v1::State r;
      timed("GetState", [&](auto* c) { return stub->GetState(c, {}, &r); });
    } else if (p < 500) {
      callsd::v1::ListCallsResponse r;
      timed("ListCalls", [&](auto* c) { return stub->ListCalls(c, {}, &r); });
    } else if (p < 650) {
      callsd::v1::GetCallHistoryRequest q;
      callsd::v1::GetCallHistoryResponse r;
      timed("GetCallHistory", [&](auto* c) { return stub->GetCallHistory(c, q, &r); });
    } else if (p < 750) {
      callsd::v1::ListPushTokensResponse r;
      timed("ListPushTokens", [&](auto* c) { return stub->ListPushTokens(c, {}, &r); });
    } else if (p < race_until) {
      // Race the other clients and the caller on the ringing call: the
      // first Accept or Decline wins, the rest get an error.
      const std::string id = current->Get();
      if (id.empty()) continue;
      if (p < accept_until) {
        callsd::v1::AcceptRequest q;
        q.set_call_id(id);
        callsd::v1::AcceptResponse r;
        timed("Accept", [&](auto* c) { return stub->Accept(c, q, &r); });
      } else if (p < decline_until) {
        callsd::v1::DeclineRequest q;
        q.set_call_id(id);
        callsd::v1::DeclineResponse r;
        timed("Decline", [&](auto* c) { return stub->Decline(c, q, &r); });
      } else {
        callsd::v1::EndRequest q;
        q.set_call_id(id);
        callsd::v1::EndResponse r;
        timed("End", [&](auto* c) { return stub->End(c, q, &r); });
      }
    } else {
      // A call of the client's own to alice (it rings on the server;
      // alice's daemon gets no push), hung up at once.
      callsd::v1::DialRequest q;
      q.set_callee_id("alice");
      callsd::v1::DialResponse r;
      if (timed("Dial", [&](auto* c) { return stub->Dial(c, q, &r); }).ok()) {
        callsd::v1::EndRequest e;
        e.set_call_id(r.call().call_id());
        callsd::v1::EndResponse er;
        timed("End", [&](auto* c) { return stub->End(c, e, &er); });
      }
    }
    if (o.think_ms > 0) absl::SleepFor(absl::Milliseconds(think(rng)));
  }
}

ProcStats ReadProcStats(pid_t pid) {
  ProcStats stats;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream in(dir + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) stats.rss_kib = std::strtol(line.c_str() + 6, nullptr, 10);
    if (line.rfind("Threads:", 0) == 0) stats.threads = std::strtol(line.c_str() + 8, nullptr, 10);
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++stats.fds;
  }
  return stats;
}

}  // namespace callsd::load
