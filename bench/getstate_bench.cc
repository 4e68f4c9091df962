// GetState latency over callsd's Unix socket, beside a bare grpc++ callback
// echo server on a Unix socket, in the same run and on the same machine.
//
// Both servers run as separate processes (this binary re-executes itself
// as the echo server); the client is a sync stub, one call at a time, and
// the two are measured in alternating rounds so that machine noise hits
// both alike. Prints p50/p99 of each and the ratios against the targets
// (p50 <= 1.2x, p99 <= 1.5x the bare server). Exit status 0 either way: a
// benchmark reports, the closing note judges.
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "bench/echo_server.h"
#include "callsd/v1/callsd.grpc.pb.h"

namespace callsd::bench {
namespace {

struct Fixture {
  std::string dir;
  pid_t echo_pid = 0;
  pid_t callsd_pid = 0;
  std::unique_ptr<callsd::bench::Echo::Stub> echo;
  std::unique_ptr<callsd::v1::Calls::Stub> calls;
  Samples echo_samples;
  Samples calls_samples;
};

Fixture* fixture = nullptr;

void RoundEcho(benchmark::State& state) {
  EchoMessage request, response;
  request.set_payload(std::string(64, 'x'));  // about the size of a State
  for (auto _ : state) {
    grpc::ClientContext ctx;
    const absl::Time start = absl::Now();
    grpc::Status status = fixture->echo->Echo(&ctx, request, &response);
    const absl::Duration took = absl::Now() - start;
    if (!status.ok()) {
      state.SkipWithError(status.error_message().c_str());
      return;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(took));
    fixture->echo_samples.Add(took);
  }
}

void RoundGetState(benchmark::State& state) {
  callsd::v1::GetStateRequest request;
  callsd::v1::State response;
  for (auto _ : state) {
    grpc::ClientContext ctx;
    const absl::Time start = absl::Now();
    grpc::Status status = fixture->calls->GetState(&ctx, request, &response);
    const absl::Duration took = absl::Now() - start;
    if (!status.ok()) {
      state.SkipWithError(status.error_message().c_str());
      return;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(took));
    fixture->calls_samples.Add(took);
  }
}

}  // namespace
}  // namespace callsd::bench

int main(int argc, char** argv) {
  using namespace callsd::bench;
  if (argc == 3 && std::string(argv[1]) == "--serve_echo") return ServeEcho(argv[2]);

  benchmark::Initialize(&argc, argv);
  Fixture f;
  fixture = &f;
  char tmpl[] = "/tmp/cdb-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  f.dir = tmpl;
  f.echo_pid = SpawnEchoServer(f.dir + "/echo.sock", f.dir + "/echo.log");
  f.callsd_pid = Spawn({CALLSD_BIN, "--socket=" + f.dir + "/callsd.sock",
                        "--state_dir=" + f.dir + "/state", "--server_url=http://127.0.0.1:9"},
                       f.dir + "/callsd.log");
  if (!WaitForSocket(f.dir + "/echo.sock") || !WaitForSocket(f.dir + "/callsd.sock")) {
    std::fprintf(stderr, "servers did not start; logs in %s\n", f.dir.c_str());
    return 1;
  }
  f.echo = ConnectEcho(f.dir + "/echo.sock");
  f.calls = callsd::v1::Calls::NewStub(
      grpc::CreateChannel("unix:" + f.dir + "/callsd.sock", grpc::InsecureChannelCredentials()));

  // Alternating rounds: echo, getstate, echo, getstate, ...
  constexpr int kRounds = 10;
  constexpr int kPerRound = 2000;
  for (int r = 0; r < kRounds; ++r) {
    benchmark::RegisterBenchmark(absl::StrCat("BareEcho/round", r).c_str(), RoundEcho)
        ->Iterations(kPerRound)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(absl::StrCat("CallsdGetState/round", r).c_str(), RoundGetState)
        ->Iterations(kPerRound)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  // Warm both channels up before measuring.
  {
    callsd::bench::EchoMessage m;
    callsd::v1::GetStateRequest q;
    callsd::v1::State s;
    for (int i = 0; i < 500; ++i) {
      grpc::ClientContext a, b;
      (void)f.echo->Echo(&a, m, &m);
      (void)f.calls->GetState(&b, q, &s);
    }
  }
  benchmark::RunSpecifiedBenchmarks();

  const double echo50 = f.echo_samples.PercentileUs(0.5);
  const double echo99 = f.echo_samples.PercentileUs(0.99);
  const double calls50 = f.calls_samples.PercentileUs(0.5);
  const double calls99 = f.calls_samples.PercentileUs(0.99);
  std::printf("\nGetState over the Unix socket vs a bare grpc++ echo server (%zu calls each)\n",
              f.calls_samples.size());
  std::printf("  %-22s %10s %10s\n", "", "p50 (us)", "p99 (us)");
  std::printf("  %-22s %10.1f %10.1f\n", "bare grpc++ echo", echo50, echo99);
  std::printf("  %-22s %10.1f %10.1f\n", "callsd GetState", calls50, calls99);
  std::printf("  %-22s %9.2fx %9.2fx   (targets: <= 1.20x, <= 1.50x)\n", "ratio",
              calls50 / echo50, calls99 / echo99);
  std::printf("  RSS: callsd %ld KiB, bare server %ld KiB\n", RssKib(f.callsd_pid),
              RssKib(f.echo_pid));
  const bool met = calls50 <= 1.2 * echo50 && calls99 <= 1.5 * echo99;
  std::printf("  %s\n", met ? "targets met" : "TARGETS NOT MET");

  StopChild(f.callsd_pid);
  StopChild(f.echo_pid);
  std::filesystem::remove_all(f.dir);
  benchmark::Shutdown();
  return 0;
}
