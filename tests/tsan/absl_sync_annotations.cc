// ThreadSanitizer annotations for Debian's Abseil synchronization library (ThreadSanitizer build
// only: SONIC_SANITIZE=thread links this library into every target, ahead of Abseil).
//
// libabsl_synchronization.so is not instrumented and blocks on futexes through syscall(), so TSan
// sees none of the happens-before edges absl::Mutex, absl::CondVar and absl::Notification give:
// every field guarded by an absl::Mutex (ours, and gRPC's, whose locks are absl::Mutex too) would
// be reported as a race. These definitions interpose on the library's exported entry points: each
// tells TSan what the call does to the mutex (the __tsan_mutex_* interface of a custom mutex) and
// calls the library's own function, found with dlsym(RTLD_NEXT). ~Mutex is left alone: TSan
// forgets a mutex when its memory is freed, and a destruction it were told of would be reported as
// racing with the last unlock wherever gRPC hands its objects over with reference counts it does
// not see.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

#define SONIC_STR2(x) #x
#define SONIC_STR(x) SONIC_STR2(x)

// The library's definition of the function mangled as _ZN4absl<ns><tail> (or _ZNK... for a const
// member): resolved once, on first use; a missing one stops the process (the build's Abseil is
// not the one these names were written for).
void* Real(const char* tail, bool is_const = false) {
  const char* ns = SONIC_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  std::string name = std::string(is_const ? "_ZNK4absl" : "_ZN4absl") +
                     std::to_string(std::strlen(ns)) + ns + tail;
  void* real = dlsym(RTLD_NEXT, name.c_str());
  if (real == nullptr) {
    std::fprintf(stderr, "sonic tsan annotations: %s not found in Abseil\n", name.c_str());
    std::abort();
  }
  return real;
}

template <typename Fn>
Fn Resolve(std::atomic<void*>& slot, const char* tail, bool is_const = false) {
  void* fn = slot.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = Real(tail, is_const);
    slot.store(fn, std::memory_order_release);
  }
  return reinterpret_cast<Fn>(fn);
}

// Set while this thread is inside one of the library's functions: Abseil calls its own exported
// functions too (CondVar::WaitWithTimeout calls WaitWithDeadline, Notification locks its mutex),
// and those calls reach the definitions below; only the outermost call is described to TSan.
thread_local int inside_abseil = 0;

struct InsideAbseil {
  InsideAbseil() { ++inside_abseil; }
  ~InsideAbseil() { --inside_abseil; }
};

// Declares `real`, the library's function. `SONIC_NESTED(call)` returns `call` at once for a
// nested call and marks the thread inside the library for the rest of an outermost one.
#define SONIC_REAL(type, tail, ...)         \
  static std::atomic<void*> slot{nullptr}; \
  auto real = Resolve<type>(slot, tail, ##__VA_ARGS__)
#define SONIC_NESTED(call)                   \
  if (inside_abseil > 0) return call;        \
  InsideAbseil inside

void BeforeLock(void* mu, unsigned flags) { __tsan_mutex_pre_lock(mu, flags); }
void AfterLock(void* mu, unsigned flags) { __tsan_mutex_post_lock(mu, flags, 0); }
void BeforeUnlock(void* mu, unsigned flags) { __tsan_mutex_pre_unlock(mu, flags); }
void AfterUnlock(void* mu, unsigned flags) { __tsan_mutex_post_unlock(mu, flags); }

// A call that leaves the mutex (held on entry) and takes it again before it returns: a wait.
// It runs between the two halves of the unlock, where TSan ignores this thread's accesses: those
// are the evaluations of the wait's condition, which Abseil makes with the mutex really held
// (TSan would otherwise count them as made outside it).
template <typename Call>
auto Reacquiring(void* mu, unsigned flags, Call call) {
  BeforeUnlock(mu, flags);
  auto result = call();
  AfterUnlock(mu, flags);
  BeforeLock(mu, flags);
  AfterLock(mu, flags);
  return result;
}

template <typename Call>
auto TryLocking(void* mu, unsigned flags, Call call) {
  BeforeLock(mu, flags | __tsan_mutex_try_lock);
  bool locked = call();
  AfterLock(mu, flags | __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed));
  return locked;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  SONIC_REAL(void (*)(Mutex*), "5Mutex4LockEv");
  SONIC_NESTED(real(this));
  BeforeLock(this, 0);
  real(this);
  AfterLock(this, 0);
}

void Mutex::Unlock() {
  SONIC_REAL(void (*)(Mutex*), "5Mutex6UnlockEv");
  SONIC_NESTED(real(this));
  BeforeUnlock(this, 0);
  real(this);
  AfterUnlock(this, 0);
}

bool Mutex::TryLock() {
  SONIC_REAL(bool (*)(Mutex*), "5Mutex7TryLockEv");
  SONIC_NESTED(real(this));
  return TryLocking(this, 0, [&] { return real(this); });
}

void Mutex::ReaderLock() {
  SONIC_REAL(void (*)(Mutex*), "5Mutex10ReaderLockEv");
  SONIC_NESTED(real(this));
  BeforeLock(this, __tsan_mutex_read_lock);
  real(this);
  AfterLock(this, __tsan_mutex_read_lock);
}

void Mutex::ReaderUnlock() {
  SONIC_REAL(void (*)(Mutex*), "5Mutex12ReaderUnlockEv");
  SONIC_NESTED(real(this));
  BeforeUnlock(this, __tsan_mutex_read_lock);
  real(this);
  AfterUnlock(this, __tsan_mutex_read_lock);
}

bool Mutex::ReaderTryLock() {
  SONIC_REAL(bool (*)(Mutex*), "5Mutex13ReaderTryLockEv");
  SONIC_NESTED(real(this));
  return TryLocking(this, __tsan_mutex_read_lock, [&] { return real(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  SONIC_REAL(void (*)(Mutex*, const Condition&), "5Mutex8LockWhenERKNS0_9ConditionE");
  SONIC_NESTED(real(this, cond));
  BeforeLock(this, 0);
  real(this, cond);
  AfterLock(this, 0);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  SONIC_REAL(void (*)(Mutex*, const Condition&), "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  SONIC_NESTED(real(this, cond));
  BeforeLock(this, __tsan_mutex_read_lock);
  real(this, cond);
  AfterLock(this, __tsan_mutex_read_lock);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  SONIC_REAL(bool (*)(Mutex*, const Condition&, Duration),
             "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  SONIC_NESTED(real(this, cond, timeout));
  BeforeLock(this, 0);
  bool result = real(this, cond, timeout);
  AfterLock(this, 0);
  return result;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  SONIC_REAL(bool (*)(Mutex*, const Condition&, Time),
             "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  SONIC_NESTED(real(this, cond, deadline));
  BeforeLock(this, 0);
  bool result = real(this, cond, deadline);
  AfterLock(this, 0);
  return result;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  SONIC_REAL(bool (*)(Mutex*, const Condition&, Duration),
             "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  SONIC_NESTED(real(this, cond, timeout));
  BeforeLock(this, __tsan_mutex_read_lock);
  bool result = real(this, cond, timeout);
  AfterLock(this, __tsan_mutex_read_lock);
  return result;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  SONIC_REAL(bool (*)(Mutex*, const Condition&, Time),
             "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  SONIC_NESTED(real(this, cond, deadline));
  BeforeLock(this, __tsan_mutex_read_lock);
  bool result = real(this, cond, deadline);
  AfterLock(this, __tsan_mutex_read_lock);
  return result;
}

// Await on a mutex held for writing (as everywhere in this project).
void Mutex::Await(const Condition& cond) {
  SONIC_REAL(void (*)(Mutex*, const Condition&), "5Mutex5AwaitERKNS0_9ConditionE");
  SONIC_NESTED(real(this, cond));
  Reacquiring(this, 0, [&] {
    real(this, cond);
    return true;
  });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  SONIC_REAL(bool (*)(Mutex*, const Condition&, Duration),
             "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  SONIC_NESTED(real(this, cond, timeout));
  return Reacquiring(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  SONIC_REAL(bool (*)(Mutex*, const Condition&, Time),
             "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  SONIC_NESTED(real(this, cond, deadline));
  return Reacquiring(this, 0, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  SONIC_REAL(void (*)(CondVar*, Mutex*), "7CondVar4WaitEPNS0_5MutexE");
  SONIC_NESTED(real(this, mu));
  Reacquiring(mu, 0, [&] {
    real(this, mu);
    return true;
  });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  SONIC_REAL(bool (*)(CondVar*, Mutex*, Duration),
             "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  SONIC_NESTED(real(this, mu, timeout));
  return Reacquiring(mu, 0, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  SONIC_REAL(bool (*)(CondVar*, Mutex*, Time),
             "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  SONIC_NESTED(real(this, mu, deadline));
  return Reacquiring(mu, 0, [&] { return real(this, mu, deadline); });
}

// Notification: Notify releases, a wait that saw the notification acquires. The inline
// HasBeenNotified() is an acquire load of the flag the library stores uninstrumented, so the
// release is made at the flag's address too.
namespace {
const void* NotifiedFlag(const Notification* n) {
  return reinterpret_cast<const char*>(n) + sizeof(Mutex);
}
}  // namespace

void Notification::Notify() {
  SONIC_REAL(void (*)(Notification*), "12Notification6NotifyEv");
  SONIC_NESTED(real(this));
  __tsan_release(this);
  __tsan_release(const_cast<void*>(NotifiedFlag(this)));
  real(this);
}

void Notification::WaitForNotification() const {
  SONIC_REAL(void (*)(const Notification*), "12Notification19WaitForNotificationEv", true);
  SONIC_NESTED(real(this));
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  SONIC_REAL(bool (*)(const Notification*, Duration),
             "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", true);
  SONIC_NESTED(real(this, timeout));
  bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  SONIC_REAL(bool (*)(const Notification*, Time),
             "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", true);
  SONIC_NESTED(real(this, deadline));
  bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool BlockingCounter::DecrementCount() {
  SONIC_REAL(bool (*)(BlockingCounter*), "15BlockingCounter14DecrementCountEv");
  SONIC_NESTED(real(this));
  __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  SONIC_REAL(void (*)(BlockingCounter*), "15BlockingCounter4WaitEv");
  SONIC_NESTED(real(this));
  real(this);
  __tsan_acquire(this);
}

bool Barrier::Block() {
  SONIC_REAL(bool (*)(Barrier*), "7Barrier5BlockEv");
  SONIC_NESTED(real(this));
  __tsan_release(this);
  bool last = real(this);
  __tsan_acquire(this);
  return last;
}

ABSL_NAMESPACE_END
}  // namespace absl
