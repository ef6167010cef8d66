// A few threads and a bounded queue for work that may block for seconds (model loads and
// unloads wait for weights to read and requests to drain), so that such RPCs neither block
// gRPC's completion-queue threads nor start a thread each: past the bound a request is refused
// at once.
//
// Thread-safe. Threads start on demand, up to `threads`; one the system refuses is not fatal.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

class BoundedExecutor {
 public:
  struct Options {
    std::string what = "requests";  // what the tasks are, for error messages
    size_t threads = 4;             // tasks that run at once (at least 1)
    size_t max_queued = 64;         // tasks waiting for a thread beyond those running
  };

  explicit BoundedExecutor(Options options) : options_(std::move(options)) {}
  // Runs every task already accepted, then joins the threads.
  ~BoundedExecutor();
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // Queues `task` to run on one of the threads; never blocks. RESOURCE_EXHAUSTED (retryable
  // later) when max_queued tasks already wait, or when no thread runs and the system refuses
  // to start one. The task is dropped unrun when refused.
  absl::Status Submit(absl::AnyInvocable<void() &&> task);

 private:
  void Work();

  const Options options_;
  absl::Mutex mutex_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mutex_);
  size_t idle_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sonic::server
