// TSan-only shim: makes absl::Mutex, absl::CondVar and absl::Notification
// visible to ThreadSanitizer. Linked into every executable of the
// CALLSD_SANITIZE=thread build, nowhere else.
//
// Why: Debian's libabsl_synchronization.so is not built with TSan. Its mutex
// is a spin + futex on an atomic word, which TSan cannot see, so every datum
// guarded by an absl::Mutex (ours, and gRPC's: grpc_core::Mutex wraps it)
// looked unsynchronized and was reported as a race. TSan does intercept
// pthread calls from any library, so std::mutex, glog, SQLite and lws need
// nothing.
//
// How: this file defines the library's own out-of-line members. The
// executable's definition comes first in symbol lookup, so both our calls and
// the library's (gRPC's, and absl's own internal calls, which go through the
// PLT) land here; each wrapper calls the real function found with
// dlsym(RTLD_NEXT) and tells TSan what happened, with the annotations absl
// itself uses when it is built with TSan (absl/synchronization/mutex.cc).
// Everything between a pre_* and post_* annotation is ignored by TSan, so
// Condition functions run by absl inside a lock operation are not checked
// (as in absl's own TSan build, which re-enables only them).
//
// The mangled names are those of Debian 12's absl 20220623 (inline namespace
// debian3); a missing one aborts at first use with its name.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

void* Real(const char* name) {
  void* fn = dlsym(RTLD_NEXT, name);
  if (fn == nullptr) {
    std::fprintf(stderr, "absl_mutex_shim: %s not found in the next library: %s\n", name,
                 dlerror());
    std::abort();
  }
  return fn;
}

// The real function, looked up once. Racing first calls look it up twice and
// store the same pointer.
template <typename Fn>
Fn Lookup(std::atomic<void*>& slot, const char* name) {
  void* fn = slot.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = Real(name);
    slot.store(fn, std::memory_order_release);
  }
  return reinterpret_cast<Fn>(fn);
}

#define CALLSD_REAL(type, mangled)        \
  ([]() -> type {                         \
    static std::atomic<void*> slot{};     \
    return Lookup<type>(slot, mangled);   \
  }())

// absl's Mutex word: the writer bit (kMuWriter in mutex.cc) tells whether an
// Await/CondVar::Wait holds the mutex exclusively or shared.
constexpr intptr_t kMuWriter = 0x0008;

unsigned HowFlags(const std::atomic<intptr_t>& mu_word) {
  return (mu_word.load(std::memory_order_relaxed) & kMuWriter) ? 0 : __tsan_mutex_read_lock;
}

// The library's public functions call each other (CondVar::WaitWithTimeout
// calls WaitWithDeadline, Notification::Notify locks its Mutex, ...), and
// those calls land here too: only the outermost one on a thread is
// annotated, the inner ones go straight to the real function.
thread_local int shim_depth = 0;

class Outermost {
 public:
  Outermost() : outer_(shim_depth++ == 0) {}
  ~Outermost() { --shim_depth; }
  Outermost(const Outermost&) = delete;
  Outermost& operator=(const Outermost&) = delete;
  explicit operator bool() const { return outer_; }

 private:
  bool outer_;
};

// A wait that releases `mu` and returns holding it again (Await, CondVar):
// TSan sees an unlock, then a lock operation spanning the whole wait, so the
// waiter's re-acquisition happens after the other holders' unlocks.
template <typename Wait>
auto WaitReleasing(void* mu, unsigned flags, Wait wait) {
  Outermost outermost;
  if (!outermost) return wait();
  __tsan_mutex_pre_unlock(mu, flags);
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  auto result = wait();
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

template <typename Lock>
auto Locking(void* mu, unsigned flags, Lock lock) {
  Outermost outermost;
  if (!outermost) return lock();
  __tsan_mutex_pre_lock(mu, flags);
  auto result = lock();
  __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using MuFn = void (*)(Mutex*);
using MuTryFn = bool (*)(Mutex*);
using MuCondFn = void (*)(Mutex*, const Condition&);
using MuCondTimeoutFn = bool (*)(Mutex*, const Condition&, Duration);
using MuCondDeadlineFn = bool (*)(Mutex*, const Condition&, Time);

void Mutex::Lock() {
  Locking(this, 0, [this] {
    CALLSD_REAL(MuFn, "_ZN4absl7debian35Mutex4LockEv")(this);
    return 0;
  });
}

void Mutex::ReaderLock() {
  Locking(this, __tsan_mutex_read_lock, [this] {
    CALLSD_REAL(MuFn, "_ZN4absl7debian35Mutex10ReaderLockEv")(this);
    return 0;
  });
}

bool Mutex::TryLock() {
  const auto real = CALLSD_REAL(MuTryFn, "_ZN4absl7debian35Mutex7TryLockEv");
  Outermost outermost;
  if (!outermost) return real(this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  bool locked = real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed),
                         0);
  return locked;
}

bool Mutex::ReaderTryLock() {
  const auto real = CALLSD_REAL(MuTryFn, "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  Outermost outermost;
  if (!outermost) return real(this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_read_lock);
  bool locked = real(this);
  __tsan_mutex_post_lock(
      this, __tsan_mutex_try_read_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::Unlock() {
  const auto real = CALLSD_REAL(MuFn, "_ZN4absl7debian35Mutex6UnlockEv");
  Outermost outermost;
  if (!outermost) return real(this);
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderUnlock() {
  const auto real = CALLSD_REAL(MuFn, "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Outermost outermost;
  if (!outermost) return real(this);
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

Mutex::~Mutex() {
  if (Outermost outermost; outermost) __tsan_mutex_destroy(this, 0);
  CALLSD_REAL(MuFn, "_ZN4absl7debian35MutexD1Ev")(this);
}

void Mutex::LockWhen(const Condition& cond) {
  Locking(this, 0, [&] {
    CALLSD_REAL(MuCondFn, "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE")(this, cond);
    return 0;
  });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  Locking(this, __tsan_mutex_read_lock, [&] {
    CALLSD_REAL(MuCondFn, "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE")(this, cond);
    return 0;
  });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return Locking(this, 0, [&] {
    return CALLSD_REAL(MuCondTimeoutFn,
                       "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
        this, cond, timeout);
  });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  return Locking(this, 0, [&] {
    return CALLSD_REAL(MuCondDeadlineFn,
                       "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
        this, cond, deadline);
  });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  return Locking(this, __tsan_mutex_read_lock, [&] {
    return CALLSD_REAL(
        MuCondTimeoutFn,
        "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
        this, cond, timeout);
  });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  return Locking(this, __tsan_mutex_read_lock, [&] {
    return CALLSD_REAL(
        MuCondDeadlineFn,
        "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
        this, cond, deadline);
  });
}

void Mutex::Await(const Condition& cond) {
  WaitReleasing(this, HowFlags(mu_), [&] {
    CALLSD_REAL(MuCondFn, "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE")(this, cond);
    return 0;
  });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  return WaitReleasing(this, HowFlags(mu_), [&] {
    return CALLSD_REAL(MuCondTimeoutFn,
                       "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
        this, cond, timeout);
  });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  return WaitReleasing(this, HowFlags(mu_), [&] {
    return CALLSD_REAL(MuCondDeadlineFn,
                       "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
        this, cond, deadline);
  });
}

// CondVar: the mutex hand-off is modelled as above; Signal -> woken Wait is
// an edge of its own (a signal may be sent without holding the mutex).
using CvWaitFn = void (*)(CondVar*, Mutex*);
using CvWaitTimeoutFn = bool (*)(CondVar*, Mutex*, Duration);
using CvWaitDeadlineFn = bool (*)(CondVar*, Mutex*, Time);
using CvFn = void (*)(CondVar*);

void CondVar::Wait(Mutex* mu) {
  WaitReleasing(mu, HowFlags(mu->mu_), [&] {
    CALLSD_REAL(CvWaitFn, "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE")(this, mu);
    return 0;
  });
  if (shim_depth == 0) __tsan_acquire(this);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  bool timed_out = WaitReleasing(mu, HowFlags(mu->mu_), [&] {
    return CALLSD_REAL(CvWaitTimeoutFn,
                       "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE")(
        this, mu, timeout);
  });
  if (shim_depth == 0) __tsan_acquire(this);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  bool timed_out = WaitReleasing(mu, HowFlags(mu->mu_), [&] {
    return CALLSD_REAL(CvWaitDeadlineFn,
                       "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE")(
        this, mu, deadline);
  });
  if (shim_depth == 0) __tsan_acquire(this);
  return timed_out;
}

void CondVar::Signal() {
  if (shim_depth == 0) __tsan_release(this);
  CALLSD_REAL(CvFn, "_ZN4absl7debian37CondVar6SignalEv")(this);
}

void CondVar::SignalAll() {
  if (shim_depth == 0) __tsan_release(this);
  CALLSD_REAL(CvFn, "_ZN4absl7debian37CondVar9SignalAllEv")(this);
}

// Notification: HasBeenNotified() is inline (an acquire load of
// notified_yet_ in our instrumented code) and the release store is inside
// the library, so Notify publishes on that address itself; the waits take
// the mutex only when they have to block, so they acquire explicitly.
using NoteFn = void (*)(Notification*);
using NoteWaitFn = void (*)(const Notification*);
using NoteWaitTimeoutFn = bool (*)(const Notification*, Duration);
using NoteWaitDeadlineFn = bool (*)(const Notification*, Time);

void Notification::Notify() {
  const auto real = CALLSD_REAL(NoteFn, "_ZN4absl7debian312Notification6NotifyEv");
  Outermost outermost;
  if (outermost) __tsan_release(const_cast<std::atomic<bool>*>(&notified_yet_));
  real(this);
}

void Notification::WaitForNotification() const {
  const auto real = CALLSD_REAL(NoteWaitFn, "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  Outermost outermost;
  real(this);
  if (outermost) __tsan_acquire(const_cast<std::atomic<bool>*>(&notified_yet_));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  Outermost outermost;
  bool notified = CALLSD_REAL(
      NoteWaitTimeoutFn,
      "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE")(this,
                                                                                         timeout);
  if (notified && outermost) __tsan_acquire(const_cast<std::atomic<bool>*>(&notified_yet_));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  Outermost outermost;
  bool notified = CALLSD_REAL(
      NoteWaitDeadlineFn,
      "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE")(this,
                                                                                      deadline);
  if (notified && outermost) __tsan_acquire(const_cast<std::atomic<bool>*>(&notified_yet_));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl

// The options every executable of the TSan build starts with (TSAN_OPTIONS
// adds to or overrides them), so that running a test binary or ctest by hand
// behaves like scripts/test --tsan: the first report ends the process with
// TSan's exit code 66, failing the test (the integration harness also fails
// a test whose child printed a report), and the checked-in suppressions
// apply to callsd and calls-server started by the tests as well.
extern "C" const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1:suppressions=" CALLSD_TSAN_SUPPRESSIONS;
}
