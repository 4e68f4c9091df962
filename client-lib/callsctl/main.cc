// callsctl: the command-line client of callsd. Everything but the signal
// plumbing lives in callsctl_lib (callsctl.h).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "client-lib/callsctl/callsctl.h"

int main(int argc, char** argv) {
  // Ctrl-C and SIGTERM go to one thread (blocked everywhere else, including
  // in gRPC's threads, which inherit this mask). A command that armed the
  // latch (watch) is stopped cleanly; otherwise the process exits as if
  // killed by the signal. A second signal always exits.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto* latch = new callsd::ctl::InterruptLatch();  // Outlives the detached thread.
  std::thread([signals, latch] {
    bool stopping = false;
    while (true) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (stopping || !latch->Trigger()) _exit(128 + sig);
      stopping = true;
    }
  }).detach();

  callsd::ctl::CallsctlEnv env = callsd::ctl::DefaultEnv();
  env.interrupt = latch;
  std::vector<std::string> args(argv + 1, argv + argc);
  return callsd::ctl::RunCallsctl(args, env);
}
