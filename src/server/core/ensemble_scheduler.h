// The scheduler of an ensemble model (platform "ensemble"): runs each request as the dataflow
// its `ensemble_scheduling` steps describe. A step starts once every ensemble tensor it reads
// exists, as a request to its composing model through that model's own scheduler (so it is
// batched with the model's other requests by its dynamic batcher, and counted in its
// statistics); independent steps run at the same time. Nothing blocks a thread per step: each
// step's completion, on the composing model's worker, starts the steps it made ready, and the
// last one completes the ensemble request.
//
// Per request, as Triton: the composing model versions are resolved when the request arrives
// (model_version -1: the highest ready version) and held until it finishes; only the steps
// needed for the requested outputs run; steps get the request's id and priority but no queue
// timeout of their own; a step's failure fails the ensemble request ("in ensemble 'E', ...",
// the step's status code) once the steps already running have finished. A client that gives up
// (InferenceRequest::abandoned) cancels the steps not yet run.
//
// Batch dimension, as Triton: tensors keep the shapes the request and the steps gave them; a
// tensor without a batch dimension going to a batching model gets one of size 1 when its shape
// matches the model's dims; a batched tensor of batch size 1 going to a non-batching model whose
// dims it does not match loses its batch dimension.
//
// Statistics of the ensemble itself (Triton's): success/fail per ensemble request; queue from
// arrival until its first steps were submitted; compute_input/infer/output the sums of the times
// its steps' requests were charged; one execution of the request's batch size per success.
//
// Thread-safe. Enqueue never blocks on a model.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "inference/model_config.pb.h"
#include "server/core/clock.h"
#include "server/core/inference_request.h"
#include "server/core/model_signature.h"
#include "server/core/model_statistics.h"
#include "server/core/request_validation.h"
#include "server/repository/ensemble_config.h"

namespace sonic::server {

class ModelVersion;

// The ready version `version` (-1: the highest ready version) of model `name`, or why there is
// none (ModelManager::Get's errors).
using ModelResolver = std::function<absl::StatusOr<std::shared_ptr<ModelVersion>>(
    const std::string& name, int64_t version)>;

class EnsembleScheduler {
 public:
  struct Options {
    const inference::ModelConfig* config = nullptr;  // borrowed, an ensemble; outlives this
    int64_t version = 0;
    ModelStatistics* stats = nullptr;          // borrowed
    const Clock* clock = &SystemClock::Get();  // borrowed
    // Of the ensemble; borrowed, outlives this. Every request is checked against it
    // (request_validation.h).
    const ModelSignature* signature = nullptr;
    ModelResolver resolve;  // must stay callable until Drain returns
  };

  // INVALID_ARGUMENT when the config is not a valid ensemble (BuildEnsembleGraph's errors).
  static absl::StatusOr<std::unique_ptr<EnsembleScheduler>> Create(const Options& options);
  // Drains first.
  ~EnsembleScheduler();

  EnsembleScheduler(const EnsembleScheduler&) = delete;
  EnsembleScheduler& operator=(const EnsembleScheduler&) = delete;

  // Takes the request; its on_complete runs exactly once: on a composing model's worker, or on
  // this thread when it is refused (UNAVAILABLE: draining, or a composing model not ready;
  // INVALID_ARGUMENT: ValidateRequest's errors, or an ensemble input a needed step reads was not
  // sent).
  void Enqueue(std::unique_ptr<InferenceRequest> request);

  // Stops accepting requests and waits until every running one has completed. Idempotent. Must
  // not be called from a completion.
  void Drain();

  // Ensemble requests running.
  size_t pending() const;

 private:
  class Run;

  explicit EnsembleScheduler(const Options& options, EnsembleGraph graph)
      : options_(options), graph_(std::move(graph)) {}
  // The steps that produce the requested outputs, directly or through other steps.
  std::vector<bool> NeededSteps(const InferenceRequest& request) const;
  // Checks `request` and resolves the models of its needed steps into `models` (null for the
  // others).
  absl::Status Admit(const InferenceRequest& request,
                     std::vector<std::shared_ptr<ModelVersion>>& models) const;
  // Fails `request` with `status` (prefixed with the ensemble) and records the failure.
  void Refuse(InferenceRequest& request, const absl::Status& status);
  // Called by a Run when its request has completed and released everything it held.
  void RunFinished();

  const Options options_;
  const EnsembleGraph graph_;
  mutable absl::Mutex mutex_;
  size_t running_ ABSL_GUARDED_BY(mutex_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mutex_) = true;
};

}  // namespace sonic::server
