// The bare grpc++ callback server the benchmarks compare the daemon with.
#ifndef CALLSD_BENCH_ECHO_SERVER_H_
#define CALLSD_BENCH_ECHO_SERVER_H_

#include <memory>
#include <string>

#include "echo.grpc.pb.h"

namespace callsd::bench {

// Serves Echo on unix:`path` until the process is killed (a child mode of
// the benchmark binaries: `BINARY --serve_echo PATH`).
int ServeEcho(const std::string& path);

// Starts this binary as an echo server on `path`; returns its pid.
pid_t SpawnEchoServer(const std::string& path, const std::string& log);

std::unique_ptr<callsd::bench::Echo::Stub> ConnectEcho(const std::string& path);

}  // namespace callsd::bench

#endif  // CALLSD_BENCH_ECHO_SERVER_H_
