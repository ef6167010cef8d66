// One loaded version of one model: its configuration, the backend's model and instances, its
// scheduler and statistics. Immutable after Load except for statistics and the queue.
//
// Shared: the ModelManager and every request running on it hold a shared_ptr, so an unload
// never pulls the model from under a running request. The manager calls Drain() before it drops
// its reference; after that the last reference may go anywhere.
//
// Thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "server/backend/backend_model.h"
#include "server/core/clock.h"
#include "server/core/ensemble_scheduler.h"
#include "server/core/model_signature.h"
#include "server/core/model_statistics.h"
#include "server/core/scheduler.h"
#include "sonic/backend/backend_api.h"

namespace sonic::server {

class ModelVersion {
 public:
  struct Options {
    inference::ModelConfig config;           // validated and normalized
    int64_t version = 0;
    std::filesystem::path version_path;      // <repository>/<model>/<version>
    const SonicBackendApi* backend = nullptr;
    BackendSettings backend_settings = {};  // --backend-config for this model's backend
    const Clock* clock = &SystemClock::Get();  // borrowed
    int gpu_count = 0;  // CUDA devices visible to the server, for PlaceInstances
    // Elements one input of one request may have unless the config's max_input_elements
    // parameter says otherwise (model_signature.h).
    uint64_t max_input_elements = uint64_t{1} << 26;
    // How an ensemble finds its composing models per request; unused for other models.
    ModelResolver resolve_model;
  };

  // Verifies the checksum agent's digests (model_checksum.h), then creates the backend model and
  // its instances where PlaceInstances puts them (a KIND_AUTO GPU instance the backend refuses
  // with FAILED_PRECONDITION goes to the CPU), then starts the scheduler. Errors (bad model files
  // or digests, instance groups this machine cannot place, a GPU the backend cannot use) carry
  // the message prefixed with the model and version.
  static absl::StatusOr<std::shared_ptr<ModelVersion>> Load(Options options);

  ~ModelVersion();

  const inference::ModelConfig& config() const { return config_; }
  // Built from config() at load; what the request path reads.
  const ModelSignature& signature() const { return *signature_; }
  const std::string& name() const { return config_.name(); }
  int64_t version() const { return version_; }
  const ModelStatistics& stats() const { return stats_; }
  // The labels of an output with a `label_filename` (one per line of that file in the model
  // directory, read at load), or null.
  const std::vector<std::string>* labels(std::string_view output) const;

  // See Scheduler::Enqueue (EnsembleScheduler::Enqueue for an ensemble).
  void Enqueue(std::unique_ptr<InferenceRequest> request) {
    ensemble_ ? ensemble_->Enqueue(std::move(request)) : scheduler_->Enqueue(std::move(request));
  }
  // See Scheduler::Drain.
  void Drain() { ensemble_ ? ensemble_->Drain() : scheduler_->Drain(); }
  size_t pending() const { return ensemble_ ? ensemble_->pending() : scheduler_->pending(); }
  // See Scheduler::admission; an ensemble has no queue of its own.
  AdmissionSnapshot admission() const {
    return scheduler_ ? scheduler_->admission() : AdmissionSnapshot{};
  }

 private:
  ModelVersion(inference::ModelConfig config, int64_t version)
      : config_(std::move(config)), version_(version) {}

  const inference::ModelConfig config_;
  const int64_t version_;
  std::unique_ptr<const ModelSignature> signature_;
  ModelStatistics stats_;
  std::map<std::string, std::vector<std::string>, std::less<>> labels_;
  std::unique_ptr<BackendModel> model_;
  std::vector<std::unique_ptr<BackendInstance>> instances_;
  // Declared last: destroyed (drained) first, before the instances it runs on.
  std::unique_ptr<Scheduler> scheduler_;
  // Instead of the backend, instances and scheduler, for an ensemble.
  std::unique_ptr<EnsembleScheduler> ensemble_;
};

}  // namespace sonic::server
