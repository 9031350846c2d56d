// Linked only under --config=tsan. Debian's abseil is not built with ThreadSanitizer, so the
// happens-before edges of absl::Mutex, absl::CondVar and absl::Notification are invisible to it,
// and every field such a mutex guards would be reported as a race. The linker's --wrap (see
// .bazelrc) sends every call to these functions, from our objects and from the gRPC archives
// alike, through the wrappers below, which tell TSan about the edge (release before letting go,
// acquire after taking hold) and call the real function.
//
// A wrapper is declared as a free function taking `this` first: the member functions' ABI on
// x86-64 System V. Only for Debian's abseil 20220623 (inline namespace debian3).
#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

namespace {

// Notification::HasBeenNotified() is inline (an acquire load of the flag that follows the
// mutex): releasing on the flag's address too lets that load see Notify's edge.
void* FlagOf(const Notification* n) {
  return reinterpret_cast<char*>(const_cast<Notification*>(n)) + sizeof(Mutex);
}

}  // namespace

#define REAL(name) __real_##name
#define WRAP(name) __wrap_##name

extern "C" {

// Mutex: taking hold.
void REAL(_ZN4absl7debian35Mutex4LockEv)(Mutex*);
void WRAP(_ZN4absl7debian35Mutex4LockEv)(Mutex* mu) {
  REAL(_ZN4absl7debian35Mutex4LockEv)(mu);
  __tsan_acquire(mu);
}
void REAL(_ZN4absl7debian35Mutex10ReaderLockEv)(Mutex*);
void WRAP(_ZN4absl7debian35Mutex10ReaderLockEv)(Mutex* mu) {
  REAL(_ZN4absl7debian35Mutex10ReaderLockEv)(mu);
  __tsan_acquire(mu);
}
bool REAL(_ZN4absl7debian35Mutex7TryLockEv)(Mutex*);
bool WRAP(_ZN4absl7debian35Mutex7TryLockEv)(Mutex* mu) {
  bool locked = REAL(_ZN4absl7debian35Mutex7TryLockEv)(mu);
  if (locked) __tsan_acquire(mu);
  return locked;
}
bool REAL(_ZN4absl7debian35Mutex13ReaderTryLockEv)(Mutex*);
bool WRAP(_ZN4absl7debian35Mutex13ReaderTryLockEv)(Mutex* mu) {
  bool locked = REAL(_ZN4absl7debian35Mutex13ReaderTryLockEv)(mu);
  if (locked) __tsan_acquire(mu);
  return locked;
}
void REAL(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE)(Mutex*, const Condition&);
void WRAP(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE)(Mutex* mu, const Condition& c) {
  REAL(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE)(mu, c);
  __tsan_acquire(mu);
}
bool REAL(_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool WRAP(_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  bool met =
      REAL(_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(mu, c, d);
  __tsan_acquire(mu);  // held either way
  return met;
}

// Mutex: letting go.
void REAL(_ZN4absl7debian35Mutex6UnlockEv)(Mutex*);
void WRAP(_ZN4absl7debian35Mutex6UnlockEv)(Mutex* mu) {
  __tsan_release(mu);
  REAL(_ZN4absl7debian35Mutex6UnlockEv)(mu);
}
void REAL(_ZN4absl7debian35Mutex12ReaderUnlockEv)(Mutex*);
void WRAP(_ZN4absl7debian35Mutex12ReaderUnlockEv)(Mutex* mu) {
  __tsan_release(mu);
  REAL(_ZN4absl7debian35Mutex12ReaderUnlockEv)(mu);
}

// Mutex: letting go and taking hold again inside (the condition is evaluated in between, under
// the real lock; see __tsan_default_suppressions below).
void REAL(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE)(Mutex*, const Condition&);
void WRAP(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE)(Mutex* mu, const Condition& c) {
  __tsan_release(mu);
  REAL(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE)(mu, c);
  __tsan_acquire(mu);
}
bool REAL(_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool WRAP(_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  __tsan_release(mu);
  bool met =
      REAL(_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(mu, c, d);
  __tsan_acquire(mu);
  return met;
}
bool REAL(_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(Mutex*,
                                                                                 const Condition&,
                                                                                 Time);
bool WRAP(_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(Mutex* mu,
                                                                                 const Condition& c,
                                                                                 Time t) {
  __tsan_release(mu);
  bool met = REAL(_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(mu, c, t);
  __tsan_acquire(mu);
  return met;
}
void REAL(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE)(void*, Mutex*);
void WRAP(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE)(void* cv, Mutex* mu) {
  __tsan_release(mu);
  REAL(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE)(cv, mu);
  __tsan_acquire(mu);
}
bool REAL(_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(void*, Mutex*,
                                                                                Duration);
bool WRAP(_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(void* cv, Mutex* mu,
                                                                                Duration d) {
  __tsan_release(mu);
  bool timed_out =
      REAL(_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(cv, mu, d);
  __tsan_acquire(mu);
  return timed_out;
}

// Notification.
void REAL(_ZN4absl7debian312Notification6NotifyEv)(Notification*);
void WRAP(_ZN4absl7debian312Notification6NotifyEv)(Notification* n) {
  __tsan_release(n);
  __tsan_release(FlagOf(n));
  REAL(_ZN4absl7debian312Notification6NotifyEv)(n);
}
void REAL(_ZNK4absl7debian312Notification19WaitForNotificationEv)(const Notification*);
void WRAP(_ZNK4absl7debian312Notification19WaitForNotificationEv)(const Notification* n) {
  REAL(_ZNK4absl7debian312Notification19WaitForNotificationEv)(n);
  __tsan_acquire(const_cast<Notification*>(n));
}
bool REAL(_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE)(
    const Notification*, Duration);
bool WRAP(_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE)(
    const Notification* n, Duration d) {
  bool notified =
      REAL(_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE)(n, d);
  if (notified) __tsan_acquire(const_cast<Notification*>(n));
  return notified;
}

}  // extern "C"

// What TSan cannot judge, because the other side of the edge is in code it does not see:
// - reads made by a Condition while abseil re-checks it inside Await/LockWhen (under the real
//   lock, between the wrapper's release and acquire; CastAndCall is the header template that
//   calls the condition, instrumented in our objects);
// - accesses inside gRPC itself: its core is not built with TSan, so the hand-offs between its
//   threads (call combiners, completion queues, slices) are invisible. race_top only drops a
//   report whose racing access is in gRPC's own code; a race in ours, even when gRPC called
//   it, is still reported.
extern "C" const char* __tsan_default_suppressions() {
  return "race:Condition::CastAndCall\n"
         "race:Condition::Eval\n"
         "race_top:grpc::\n"
         "race_top:grpc_core::\n"
         "race_top:grpc_event_engine::\n"
         "race:grpc_slice_\n"
         "race:tcp_do_read\n"
         "race:tcp_send\n"
         "race:cq_next\n"
         // Allocations, frees and copies made inside gRPC's core (TSan sees them through its
         // interceptors, but not the core's own hand-offs).
         "race:grpc_core::\n"
         "race:grpc_make_transport_op\n"
         // Memory gRPC allocates on one of its threads and hands to another.
         "race:gpr_malloc\n"
         "race:gpr_free\n"
         "race:grpc_byte_buffer_\n";
}
