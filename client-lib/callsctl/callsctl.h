// callsctl: the command-line client of callsd (see args.h for the grammar).
//
// RunCallsctl() is the whole program minus main(): it parses the arguments,
// reads a token or a push payload when the command needs one, connects through
// CallsctlEnv::connect and runs the command, writing to the streams of the
// environment. Exit status: 0 success, 1 an error from callsd or the
// connection, 2 a usage error (including an unreadable or empty token, and
// an empty or oversized push payload).
#ifndef CALLSD_CLIENT_LIB_CALLSCTL_CALLSCTL_H_
#define CALLSD_CLIENT_LIB_CALLSCTL_CALLSCTL_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "callsd/client.h"

namespace callsd::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// How Ctrl-C reaches a command that runs until interrupted (watch), and how
// such a command wakes itself up. Thread-safe.
class InterruptLatch {
 public:
  // Declares that the running command handles interruption itself.
  void Arm();

  // Wakes Wait(). Returns whether a command had armed the latch; main's
  // signal thread exits the process when nobody had.
  bool Trigger();

  // Blocks until Trigger() has been called (at least once, ever).
  void Wait();

 private:
  absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool triggered_ ABSL_GUARDED_BY(mu_) = false;
};

// What RunCallsctl uses of the outside world. Tests substitute every part.
struct CallsctlEnv {
  std::istream* in = nullptr;   // For --token-stdin and push deliver.
  std::ostream* out = nullptr;  // Results.
  std::ostream* err = nullptr;  // Errors and notes.
  // Opens the connection (Client::Connect; tests: a fake).
  std::function<absl::StatusOr<std::unique_ptr<client::Client>>(const client::ClientOptions&)>
      connect;
  // The clock and time zone for times in human output.
  std::function<absl::Time()> now;
  absl::TimeZone zone;
  // Ctrl-C for `watch`; may be null (watch then ends only with the stream).
  InterruptLatch* interrupt = nullptr;
};

// The environment of the real program: std::cin/cout/cerr,
// Client::Connect, absl::Now, the local time zone, no interrupt.
CallsctlEnv DefaultEnv();

// Runs callsctl with the arguments after argv[0]; returns the exit status.
// Writes only to env.out and env.err.
int RunCallsctl(const std::vector<std::string>& args, const CallsctlEnv& env);

}  // namespace callsd::ctl

#endif  // CALLSD_CLIENT_LIB_CALLSCTL_CALLSCTL_H_
