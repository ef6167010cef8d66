// A model of a Triton model repository run inside the calling process through the server's own
// execution path: the config read and validated as the server reads it (LoadModelConfig), the
// backend from the same registry (built-in or plugin), one instance, and a BatchExecutor that
// assembles inputs (ragged inputs, batch_input tensors), executes and splits outputs per request
// exactly as a server instance does. What is missing is only what lies between a client and an
// instance: gRPC, queueing, dynamic batching. This is "direct inference": the floor that SONIC
// is measured against, and the reference its outputs are validated against.
//
//   SONIC_ASSIGN_OR_RETURN(auto model, LocalModel::Load("/models/particlenet"));
//   std::vector<LocalRequest> requests = ...;   // what the client would send, one per request
//   SONIC_ASSIGN_OR_RETURN(auto responses, model->Execute(requests));
//
// Thread-compatible: one Execute at a time per LocalModel (it owns one backend instance); use
// one LocalModel per thread for parallel inference.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "server/core/inference_request.h"

namespace sonic::server {

class BackendRegistry;
class BackendModel;
class BackendInstance;
class ModelStatistics;
class ModelSignature;
class BatchExecutor;

// One request's inputs, as a client would send them: for a batching model (max_batch_size > 0)
// every shape starts with the batch dimension. The bytes are borrowed for the Execute call.
using LocalRequest = std::vector<RequestInput>;

class LocalModel {
 public:
  // Loads `model_dir` (a model directory of a repository: config.pbtxt and version folders).
  // `version` 0 picks the highest version the config's version policy serves. Plugins are found
  // in DefaultBackendDirectory() unless `backend_directory` is given. Errors: those of
  // LoadModelConfig; NOT_FOUND when no version folder is served; the backend's own errors (with
  // the model named) from loading the model and creating its CPU instance.
  static absl::StatusOr<std::unique_ptr<LocalModel>> Load(
      const std::filesystem::path& model_dir, int64_t version = 0,
      const std::filesystem::path& backend_directory = {});

  ~LocalModel();
  LocalModel(const LocalModel&) = delete;
  LocalModel& operator=(const LocalModel&) = delete;

  const inference::ModelConfig& config() const { return config_; }
  int64_t version() const { return version_; }

  // Runs `requests` as one execution, as the server would run them after batching them together,
  // and returns each request's outputs (in config order, or in `outputs` order when given), shaped
  // as the server would return them. INVALID_ARGUMENT for requests the server would refuse to
  // batch together (different inputs, or shapes differing outside ragged inputs), more than one
  // request for a model without batching, a total batch above max_batch_size, an input the model
  // does not have, or bytes not matching a shape; otherwise the execution's error.
  absl::StatusOr<std::vector<std::vector<OutputTensor>>> Execute(
      std::span<const LocalRequest> requests, std::span<const std::string> outputs = {});

 private:
  LocalModel() = default;
  absl::StatusOr<std::unique_ptr<InferenceRequest>> MakeRequest(
      const LocalRequest& inputs, std::span<const std::string> outputs) const;

  inference::ModelConfig config_;
  int64_t version_ = 0;
  std::unique_ptr<const ModelSignature> signature_;
  std::unique_ptr<BackendRegistry> registry_;
  std::unique_ptr<BackendModel> model_;
  std::unique_ptr<BackendInstance> instance_;
  std::unique_ptr<ModelStatistics> statistics_;
  std::unique_ptr<BatchExecutor> executor_;
};

}  // namespace sonic::server
