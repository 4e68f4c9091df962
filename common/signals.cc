#include "common/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace callsd {
namespace {

int signal_pipe[2] = {-1, -1};
sigset_t waited_signals;

void OnSignal(int sig) {
  const int saved = errno;
  const char byte = static_cast<char>(sig);
  (void)!write(signal_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

absl::Status InstallSignalPipe(std::initializer_list<int> signals) {
  if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  struct sigaction action {};
  action.sa_handler = &OnSignal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: the read in WaitForSignal() returns EINTR, which under
  // TSan is what runs the handler (it is deferred until the thread leaves
  // the intercepted read). Only that thread takes the signals (see below).
  action.sa_flags = 0;
  sigemptyset(&waited_signals);
  for (int sig : signals) {
    sigaction(sig, &action, nullptr);
    sigaddset(&waited_signals, sig);
  }
  signal(SIGPIPE, SIG_IGN);
  // Blocked here, so in every thread started from now on; WaitForSignal()
  // unblocks them while it waits, so the kernel delivers them to it. Under
  // TSan this is what makes them arrive at all: TSan runs a handler only
  // once the thread is back in an intercepted call, which a gRPC or absl
  // thread parked in a raw futex wait never is.
  pthread_sigmask(SIG_BLOCK, &waited_signals, nullptr);
  return absl::OkStatus();
}

int WaitForSignal() {
  pthread_sigmask(SIG_UNBLOCK, &waited_signals, nullptr);
  char byte = 0;
  while (read(signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  pthread_sigmask(SIG_BLOCK, &waited_signals, nullptr);
  return byte;
}

void WakeSignalWaiter() {
  const char stop = 0;
  (void)!write(signal_pipe[1], &stop, 1);
}

}  // namespace callsd
