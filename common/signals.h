// Termination signals as a blocking wait, through a self-pipe: the handler
// only writes the signal number (async-signal-safe) and Wait() reads it.
// Unlike sigwait(), this works whatever threads exist before main()
// (sanitizer runtimes start one) and whatever their signal masks.
#ifndef CALLSD_COMMON_SIGNALS_H_
#define CALLSD_COMMON_SIGNALS_H_

#include <initializer_list>

#include "absl/status/status.h"

namespace callsd {

// Installs handlers for `signals` and ignores SIGPIPE. Call once, early in
// main(), before starting threads: it blocks `signals` in the calling thread
// (so in the threads it starts), and WaitForSignal() unblocks them in the
// thread that waits.
absl::Status InstallSignalPipe(std::initializer_list<int> signals);

// Blocks until one of the installed signals arrives (returns its number) or
// WakeSignalWaiter() is called (returns 0).
int WaitForSignal();

// Makes a WaitForSignal() return 0. Thread-safe.
void WakeSignalWaiter();

}  // namespace callsd

#endif  // CALLSD_COMMON_SIGNALS_H_
