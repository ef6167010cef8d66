// Threads of the client library's own, for the work of kAsync clients that must run neither on
// a transport (gRPC callback) thread nor on the caller's. Internal to the client library.
//
// Two shared executors, so that slow work never queues ahead of quick work:
// - Retries(): preparing and starting a retry. A retry may ask a ServerResolver, which may probe
//   servers or start a fallback server (seconds, or minutes); on a transport thread that would
//   hold up the completions of every other client of the process.
// - Completions(): concluding a dispatch whose calls all finished while it was starting (a
//   fast server, a refused connection), so that dispatch() returns before its callback runs. It
//   never waits behind a retry whose resolver is blocked.
//
// A fixed set of threads started by the constructor runs the posted tasks, oldest first; a task
// posted with a delay (a retry backing off from a full queue) joins them when it is due, holding
// no thread while it waits. The queue is bounded: Post refuses a task rather than let memory
// grow without limit (the caller then falls back, see Post's users). Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sonic::client::internal {

class ClientExecutor {
 public:
  struct Options {
    int threads = 4;          // at least 1
    size_t capacity = 4096;   // tasks waiting for a thread, at most
  };

  explicit ClientExecutor(const Options& options);
  // Runs the tasks still queued (delayed ones at once), then joins the threads. Must not run on
  // one of them.
  ~ClientExecutor();
  ClientExecutor(const ClientExecutor&) = delete;
  ClientExecutor& operator=(const ClientExecutor&) = delete;

  // Queues `task`; false (the task is dropped, not run) when `capacity` tasks already wait.
  // Never blocks on a running task. A task must not throw.
  bool Post(std::function<void()> task);
  // As Post, the task running no earlier than `delay` from now. Delayed tasks count against
  // `capacity` too.
  bool PostAfter(absl::Duration delay, std::function<void()> task);

  // The process's executors (see above), created on first use and never destroyed (so that no
  // task outlives its executor at exit).
  static ClientExecutor& Retries();
  static ClientExecutor& Completions();

 private:
  void Run();
  // Moves the delayed tasks that are due (all of them when stopping) to `tasks_`.
  void TakeDueTasks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, std::function<void()>> delayed_ ABSL_GUARDED_BY(mu_);
  // Bumped by PostAfter, so that a thread waiting for a later due time looks again.
  uint64_t delayed_version_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace sonic::client::internal
