// The compute floor: a model run in-process through the same backend code path the server
// uses (plugin from BackendRegistry, BackendModel, BackendInstance, config read and validated by
// LoadModelConfig), without gRPC, queueing or batching in between.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sonic/common/data_type.h"

namespace sonic::bench {

// One input tensor of the batch, batch dimension included in `shape`.
struct DirectInput {
  std::string name;
  DataType type = DataType::kInvalid;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;
};

struct DirectOptions {
  std::filesystem::path model_dir;  // <repository>/<model>, holding config.pbtxt and versions.
  int64_t version = 1;
  std::vector<DirectInput> inputs;
  std::vector<std::string> outputs;  // Output names to produce.
  uint64_t batch_size = 1;
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
};

struct DirectResult {
  int64_t executions = 0;            // Executions started and finished within the measured stretch.
  double inferences_per_second = 0;  // executions * batch_size / duration.
  absl::Duration p50_latency;        // Per execution.
};

// Loads the model's backend (plugins from build/lib beside the running executable), creates one
// CPU instance and executes the batch again and again on a thread of its own (as the server's
// instance workers do) for warm-up + duration. Blocks until done. Errors: those of
// LoadModelConfig, BackendRegistry::Get, BackendModel/BackendInstance::Create and the first
// failed Execute, unchanged.
absl::StatusOr<DirectResult> RunDirectInference(const DirectOptions& options);

}  // namespace sonic::bench
