// The threads on which kAsync clients prepare and start their retries. A retry may ask a
// ServerResolver, which may probe servers or start a fallback server (seconds, or minutes); that
// must never happen on a transport (gRPC callback) thread, where it would hold up the
// completions of every other client of the process. Internal to the client library.
//
// A fixed set of threads started by the constructor runs the posted tasks, oldest first. The
// queue is bounded: Post refuses a task rather than let memory grow without limit (the caller
// then gives up the retry). Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sonic::client::internal {

class RetryExecutor {
 public:
  struct Options {
    int threads = 4;          // at least 1
    size_t capacity = 4096;   // tasks waiting for a thread, at most
  };

  explicit RetryExecutor(const Options& options);
  // Runs the tasks still queued, then joins the threads. Must not run on one of them.
  ~RetryExecutor();
  RetryExecutor(const RetryExecutor&) = delete;
  RetryExecutor& operator=(const RetryExecutor&) = delete;

  // Queues `task`; false (the task is dropped, not run) when `capacity` tasks already wait.
  // Never blocks on a running task. A task must not throw.
  bool Post(std::function<void()> task);

  // The process's executor for client retries, created on first use and never destroyed (so
  // that no retry outlives it at exit).
  static RetryExecutor& Shared();

 private:
  void Run();

  const size_t capacity_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace sonic::client::internal
