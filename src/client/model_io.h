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

// Reads and parses the config.pbtxt at `path`. kBadInput (INVALID_ARGUMENT) when the file
// cannot be read or parsed, with `context` in the message.
absl::StatusOr<inference::ModelConfig> ReadLocalConfig(const std::string& path,
                                                       std::string_view context);

// The first difference that makes `server`'s model another version than `local`'s, "" when
// none: max_batch_size, each input's and output's name, datatype and dims (and inputs'
// allow_ragged_batch), and the entries of the "checksum" repository agent (keys
// "<ALGORITHM>:<file relative to the model directory>", values the files' digests; a file listed
// on one side only differs). With `version` set, only checksums of files in that version's
// folder and at the model's top level count.
std::string ModelVersionDifference(const inference::ModelConfig& local,
                                   const inference::ModelConfig& server, std::string_view version);

// ReadLocalConfig, then ModelVersionDifference: kModelError (FAILED_PRECONDITION) "model version
// mismatch" naming the local file and the first difference.
absl::Status CheckLocalConfig(const std::string& path, const inference::ModelConfig& server,
                              std::string_view version, std::string_view context);

}  // namespace sonic::client::internal
