// Runs one batch of requests on one backend instance: assembles the backend's input tensors
// from the requests, executes, splits the outputs back per request, records statistics and
// completes every request exactly once. A backend that takes batches request by request
// (BackendInstance::executes_requests) gets each request's own inputs and answers each request
// on its own, which may be an error for some requests of the batch only.
//
// A batch holds requests of one model version that carry the same inputs with the same non-batch
// dimensions except for ragged inputs (CanBatchTogether in batch_assembly.h; the scheduler forms
// batches so); their batch sizes add up to at most max_batch_size. How inputs are assembled and
// outputs split (ragged inputs, batch_input, batch_output) is batch_assembly.h's.
//
// Thread-compatible: one BatchExecutor per instance worker, which calls Execute serially.
#pragma once

#include <array>
#include <functional>
#include <list>
#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "server/backend/backend_model.h"
#include "server/core/clock.h"
#include "server/core/inference_request.h"
#include "server/core/model_signature.h"
#include "server/core/model_statistics.h"

namespace sonic::server {

class BatchExecutor {
 public:
  // Told of every execution, before any of its requests completes: how many requests it ran and
  // how long it took (assembly, the backend and the split, the responses not included). Whoever
  // estimates queue times from it (admission.h) so knows of an execution before its clients do.
  using ExecutionObserver = std::function<void(size_t requests, uint64_t duration_ns)>;

  // Borrows everything; all must outlive the executor.
  BatchExecutor(const ModelSignature& signature, int64_t version, BackendInstance& instance,
                ModelStatistics& stats, const Clock& clock,
                ExecutionObserver on_executed = nullptr)
      : signature_(signature),
        version_(version),
        instance_(instance),
        stats_(stats),
        clock_(clock),
        on_executed_(std::move(on_executed)) {}

  // Blocks while the backend runs. Every request's on_complete has run when this returns.
  // When a batch of several fails as a whole (assembly, the backend, memory), each of its
  // requests runs again alone, so a request that cannot run fails no other. Memory exhaustion
  // (std::bad_alloc) is a RESOURCE_EXHAUSTED response, never an exception.
  void Execute(Batch batch);

  // One response per request, or the reason that request failed; inline for a request alone.
  using Results = absl::InlinedVector<absl::StatusOr<InferenceResponse>, 1>;

 private:
  struct BatchOutputs;
  // Runs `batch` once and completes every request (returns true), except when the execution
  // fails as a whole and !complete_on_failure: then it completes none and returns false.
  bool Run(Batch& batch, bool complete_on_failure);
  // Assembles, executes and splits; `ns` gets the start (already in ns[0]), inputs-ready and
  // outputs-start times. Never throws.
  absl::Status Compute(const Batch& batch, int64_t total_batch, BatchOutputs& outputs,
                       ExecutionTimes& times, std::array<uint64_t, 4>& ns);
  // Compute for a backend that takes the batch request by request (no assembly, no split).
  absl::Status ComputeByRequest(const Batch& batch, BatchOutputs& outputs, ExecutionTimes& times,
                                std::array<uint64_t, 4>& ns);
  // The outputs any request of the batch asked for, in config order.
  absl::InlinedVector<const char*, 8> WantedOutputs(const Batch& batch) const;
  // One response per request from the batch outputs, or the reason that request failed.
  Results SplitOutputs(const Batch& batch, std::list<OutputTensor>& outputs);
  void Complete(Batch& batch, Results results, uint64_t start_ns, const ExecutionTimes& times);

  const ModelSignature& signature_;
  const int64_t version_;
  BackendInstance& instance_;
  ModelStatistics& stats_;
  const Clock& clock_;
  const ExecutionObserver on_executed_;
};

}  // namespace sonic::server
