#include "bench/echo_server.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>

#include "bench/bench_util.h"

namespace callsd::bench {
namespace {

class EchoService final : public callsd::bench::Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* ctx, const EchoMessage* request,
                                 EchoMessage* response) override {
    *response = *request;
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

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
