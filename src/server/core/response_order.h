// Delivers completions in the order their requests arrived (the config's
// dynamic_batching.preserve_ordering), whatever order the batches finish in.
//
// Thread-safe. A delivery runs on the thread that completed the slot it waited for, never under
// a lock.
#pragma once

#include <cstdint>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

class ResponseOrder {
 public:
  // Reserves the next position; every reserved position must be completed exactly once.
  uint64_t Reserve();
  // Runs `deliver` once every earlier position has been delivered (maybe now, maybe later on the
  // thread that completes the last earlier one).
  void Complete(uint64_t position, absl::AnyInvocable<void() &&> deliver);

 private:
  absl::Mutex mutex_;
  uint64_t next_reserved_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t next_delivered_ ABSL_GUARDED_BY(mutex_) = 0;
  bool delivering_ ABSL_GUARDED_BY(mutex_) = false;
  std::map<uint64_t, absl::AnyInvocable<void() &&>> ready_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sonic::server
