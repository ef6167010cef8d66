// The per-model-version scheduler: queues requests and runs them on the model's instances, one
// worker thread per instance (so a backend never sees two executions at once on one instance).
// Without dynamic batching each request is its own execution.
//
// Thread-safe. Enqueue never blocks on the model: the caller's thread returns at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/core/batch_executor.h"

namespace sonic::server {

class Scheduler {
 public:
  struct Options {
    const inference::ModelConfig* config = nullptr;  // borrowed, outlives the scheduler
    int64_t version = 0;
    ModelStatistics* stats = nullptr;                // borrowed
    const Clock* clock = &SystemClock::Get();        // borrowed
  };

  // Starts one worker per instance; the instances are borrowed and must outlive the scheduler.
  Scheduler(const Options& options, std::vector<BackendInstance*> instances);
  // Drains first.
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Takes the request; its on_complete runs exactly once, on a worker thread, or on this thread
  // with UNAVAILABLE when the scheduler is draining.
  void Enqueue(std::unique_ptr<InferenceRequest> request);

  // Stops accepting requests, lets every queued and running request finish, then stops the
  // workers. Blocks until done; idempotent. Must not be called from a worker (a completion).
  void Drain();

  // Requests queued or executing.
  size_t pending() const;

 private:
  void WorkerLoop(BackendInstance* instance);
  // Blocks until a batch is ready or the scheduler has stopped (then returns an empty batch).
  Batch NextBatch();

  const Options options_;
  mutable absl::Mutex mutex_;
  std::deque<std::unique_ptr<InferenceRequest>> queue_ ABSL_GUARDED_BY(mutex_);
  size_t running_ ABSL_GUARDED_BY(mutex_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mutex_) = true;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace sonic::server
