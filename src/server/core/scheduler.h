// The per-model-version scheduler: admits requests into the dynamic batcher's queues and runs the
// batches it forms on the model's instances, one worker thread per instance (so a backend never
// sees two executions at once on one instance). Requests that time out in the queue fail with
// UNAVAILABLE; requests whose expected queue time is over the model's limit are refused before
// they queue (admission.h); requests whose clients gave up (InferenceRequest::abandoned) are taken
// out of their batch and fail with CANCELLED without running; with preserve_ordering, responses
// leave in arrival order.
//
// A quick model runs on the caller's thread: when the model has one instance, which is idle,
// nothing is queued, there is no dynamic batching to wait for, and the model's recent executions
// took at most Options::quick_execution_ns per request, Enqueue executes the request itself, and
// then what arrived meanwhile (up to kCallerTurns executions). Handing them to the worker would
// cost as much as such a model (a wake-up and two thread switches, about 10 us), and no guarantee
// changes: the
// worker would have started them at once on the same instance, in the same order, and the
// statistics, the trace and the admission estimate record them as any other execution.
//
// Thread-safe. Enqueue never blocks on the queue; it returns at once, or after running a quick
// model's request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/core/admission.h"
#include "server/core/batch_executor.h"
#include "server/core/dynamic_batcher.h"
#include "server/core/model_signature.h"
#include "server/core/request_validation.h"
#include "server/core/response_order.h"

namespace sonic::server {

class Scheduler {
 public:
  struct Options {
    const inference::ModelConfig* config = nullptr;  // borrowed, outlives the scheduler
    int64_t version = 0;
    ModelStatistics* stats = nullptr;          // borrowed
    const Clock* clock = &SystemClock::Get();  // borrowed
    // Of the same model version; borrowed, outlives the scheduler. Every request is checked
    // against it before it is queued (request_validation.h), batched and run by it.
    const ModelSignature* signature = nullptr;
    // Recent executions at most this long per request run on the caller's thread (see above);
    // 0: never.
    uint64_t quick_execution_ns = 50'000;
  };

  // Starts one worker per instance; the instances are borrowed and must outlive the scheduler.
  // INVALID_ARGUMENT when the config's max_expected_queue_time_us is malformed; RESOURCE_EXHAUSTED
  // (naming the model and the reason) when the system refuses a thread: the workers already started
  // are stopped, and nothing else is left behind.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Create(const Options& options,
                                                           std::vector<BackendInstance*> instances);
  // Drains first.
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Takes the request; its on_complete runs exactly once: on a worker thread, or on this thread
  // when it runs here (a quick model, see above) or is refused (UNAVAILABLE: draining, queue full,
  // or expected queue time over the limit, the last two with a retry delay (retry_delay.h);
  // INVALID_ARGUMENT: ValidateRequest's errors).
  void Enqueue(std::unique_ptr<InferenceRequest> request);

  // Stops accepting requests, lets every queued and running request finish, then stops the
  // workers. Blocks until done; idempotent. Must not be called from a worker (a completion).
  void Drain();

  // Requests queued or executing.
  size_t pending() const;

  // How often a worker woke up and found neither a batch nor an expired request nor a stop
  // (an arrival wakes at most one idle worker, and none while a batch waits to fill; this stays
  // small).
  uint64_t idle_wakeups() const;

  // The admission limit, the expected queue time of a request arriving now, and the refusals.
  AdmissionSnapshot admission() const;

  // A caller that ran a request also runs what queued meanwhile, up to this many executions in
  // all, instead of waking the worker for it.
  static constexpr int kCallerTurns = 8;

 private:
  Scheduler(const Options& options, uint64_t queue_time_limit_ns, size_t instances);
  // Stops and joins the workers; requires that no request is queued or running.
  void StopWorkers();
  void WorkerLoop(BatchExecutor* executor);
  // Whether an admitted request may run on the caller's thread now (see above); if so, claims
  // the sole instance and counts the request as running.
  bool ClaimForCaller() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Runs a request on the instance ClaimForCaller claimed, and what queues meanwhile (up to
  // kCallerTurns executions), then gives the instance back to its worker.
  void RunHere(std::unique_ptr<InferenceRequest> request);
  enum class CallerTurn { kNone, kMayGoOn, kLast };
  // Executes what is left of `batch` (counted in running_) on `executor` and records it. On a
  // caller's turn (not kNone), returns the next batch the caller runs (kMayGoOn: what is
  // queued) or, when there is none, gives the instance back in the same critical section.
  Batch Execute(BatchExecutor& executor, Batch batch, CallerTurn turn);
  // Blocks until a batch is ready (failing expired requests on the way) or the scheduler has
  // stopped (then returns an empty batch).
  Batch NextBatch();
  void Refuse(InferenceRequest& request, absl::Status status,
              FailureReason reason = FailureReason::kRejected);
  // The requests of `batch` whose clients still wait; the others are refused (CANCELLED).
  Batch DropAbandoned(Batch batch);
  // With preserve_ordering: routes the completion through response_order_.
  void OrderCompletion(InferenceRequest& request);

  const Options options_;
  const bool preserve_ordering_;
  ResponseOrder response_order_;
  mutable absl::Mutex mutex_;
  // Signalled once per arrival that may let a batch run sooner (one idle worker takes it; an
  // arrival that only adds to a batch still waiting for its delay wakes none, nor one that a
  // caller running the sole instance will take), once more by a worker that leaves requests
  // behind when it takes a batch or a caller that leaves them when it gives the instance back,
  // and to all at stop.
  absl::CondVar changed_;
  DynamicBatcher batcher_ ABSL_GUARDED_BY(mutex_);
  QueueTimeAdmission admission_ ABSL_GUARDED_BY(mutex_);
  size_t running_ ABSL_GUARDED_BY(mutex_) = 0;
  // The sole instance runs a request on a caller's thread: its worker takes no batch meanwhile.
  bool caller_running_ ABSL_GUARDED_BY(mutex_) = false;
  bool accepting_ ABSL_GUARDED_BY(mutex_) = true;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t idle_wakeups_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<std::unique_ptr<BatchExecutor>> executors_;  // one per instance
  std::vector<std::thread> workers_;                       // one per executor
};

}  // namespace sonic::server
