#include "bench/echo_server.h"

#include <grpcpp/grpcpp.h>

#include <deque>
#include <filesystem>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_util.h"

namespace callsd::bench {
namespace {

class EchoService;

// One Subscribe stream: a queue and one write in flight, as any gRPC
// server that pushes events to watchers needs (callsd's WatchStream is the
// same plus its checks).
class Subscriber final : public grpc::ServerWriteReactor<EchoMessage> {
 public:
  explicit Subscriber(EchoService* service) : service_(service) {}
  void Send(std::shared_ptr<const EchoMessage> message) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(message));
    if (!writing_) WriteNextLocked();
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    queue_.pop_front();
    if (ok && !queue_.empty()) WriteNextLocked();
  }
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override;

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    StartWrite(queue_.front().get());
  }
  EchoService* const service_;
  absl::Mutex mu_;
  std::deque<std::shared_ptr<const EchoMessage>> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
};

class EchoService final : public callsd::bench::Echo::CallbackService {
 public:
  void Remove(Subscriber* s) {
    absl::MutexLock lock(&mu_);
    subscribers_.erase(s);
  }

 private:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const EchoMessage* request,
                                 EchoMessage* response) override {
    *response = *request;
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerWriteReactor<EchoMessage>* Subscribe(grpc::CallbackServerContext* ctx,
                                                   const EchoMessage* request) override {
    auto* s = new Subscriber(this);
    absl::MutexLock lock(&mu_);
    subscribers_.insert(s);
    return s;
  }
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* ctx, const EchoMessage* request,
                                    EchoMessage* response) override {
    auto message = std::make_shared<const EchoMessage>(*request);
    size_t count = 0;
    {
      absl::MutexLock lock(&mu_);
      for (Subscriber* s : subscribers_) s->Send(message);
      count = subscribers_.size();
    }
    response->set_payload(absl::StrCat(count));
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  absl::Mutex mu_;
  std::set<Subscriber*> subscribers_ ABSL_GUARDED_BY(mu_);
};

void Subscriber::OnDone() {
  service_->Remove(this);
  delete this;
}

}  // namespace

int ServeEcho(const std::string& path) {
  EchoService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  server->Wait();
  return 0;
}

pid_t SpawnEchoServer(const std::string& path, const std::string& log) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  return Spawn({self, "--serve_echo", path}, log);
}

std::unique_ptr<callsd::bench::Echo::Stub> ConnectEcho(const std::string& path) {
  return callsd::bench::Echo::NewStub(
      grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
}

}  // namespace callsd::bench
