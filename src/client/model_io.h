// What a TritonClient learns about its model at setup: the inputs and outputs (from
// ModelMetadata, with allow_ragged_batch and optional from ModelConfig), and the check of a local
// config.pbtxt against the server's config. Pure functions; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/grpc_service.pb.h"
#include "inference/model_config.pb.h"
#include "sonic/client/triton_data.h"

namespace sonic::client::internal {

struct ModelIo {
  int max_batch_size = 0;
  std::vector<TensorInfo> inputs;   // in the model's order
  std::vector<TensorInfo> outputs;  // the requested ones (all when none requested), model order
};

// kModelError when the metadata is unusable (unknown datatype, batch dimension missing);
// kBadInput when a requested output does not exist.
absl::StatusOr<ModelIo> DescribeModel(const inference::ModelMetadataResponse& metadata,
                                      const inference::ModelConfig& config,
                                      const std::vector<std::string>& requested_outputs,
                                      std::string_view context);

// Reads the config.pbtxt at `path` and compares max_batch_size and each input's and output's
// name, datatype and dims (and inputs' allow_ragged_batch) with `server`. kBadInput when the
// file cannot be read or parsed; kModelError (FAILED_PRECONDITION) naming the first difference.
absl::Status CheckLocalConfig(const std::string& path, const inference::ModelConfig& server,
                              std::string_view context);

}  // namespace sonic::client::internal
