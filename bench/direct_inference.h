// The compute floor: a model run in-process through the server's own execution path
// (server::LocalModel: the config read as the server reads it, the backend from the same
// registry, one CPU instance, inputs assembled and outputs split as an instance does), without
// gRPC, queueing or batching in between.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/common/data_type.h"

namespace sonic::server {
class LocalModel;
}  // namespace sonic::server

namespace sonic::bench {

// One input tensor of the batch, batch dimension included in `shape` for a batching model.
struct DirectInput {
  std::string name;
  DataType type = DataType::kInvalid;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;
};

struct DirectOptions {
  std::filesystem::path model_dir;   // <repository>/<model>, holding config.pbtxt and versions.
  int64_t version = 0;               // 0: the highest version the config serves.
  std::vector<DirectInput> inputs;   // One request; its batch is what one execution infers.
  std::vector<std::string> outputs;  // Output names to produce; empty: all of the model's.
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
};

struct DirectResult {
  int64_t executions = 0;            // Executions started and finished within the measured stretch.
  double inferences_per_second = 0;  // executions * batch size / duration.
  absl::Duration p50_latency;        // Per execution.
};

// The model of `options` loaded once, executing its request one call at a time, for a caller
// that runs and times the executions itself (interleaved_load.h); options.warmup and
// options.duration are not used. Thread-compatible: one ExecuteOnce at a time.
class DirectModel {
 public:
  // Errors: LocalModel::Load's, unchanged.
  static absl::StatusOr<std::unique_ptr<DirectModel>> Load(const DirectOptions& options);
  ~DirectModel();

  // Executes the request once; the execution's error, unchanged.
  absl::Status ExecuteOnce();
  // Inferences per execution: the batch dimension of a batching model's inputs, else 1.
  int64_t batch_size() const { return batch_size_; }

 private:
  DirectModel(DirectOptions options, std::unique_ptr<server::LocalModel> model);

  const DirectOptions options_;
  std::unique_ptr<server::LocalModel> model_;
  int64_t batch_size_ = 1;
};

// Loads the model (plugins from build/lib beside the running executable) and executes the
// request again and again on a thread of its own (as the server's instance workers do) for
// warm-up + duration. Blocks until done. Errors: LocalModel::Load's and the first failed
// Execute's, unchanged.
absl::StatusOr<DirectResult> RunDirectInference(const DirectOptions& options);

}  // namespace sonic::bench
