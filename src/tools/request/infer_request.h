// Building ModelInferRequests for a model from what the server says about it (ModelMetadata and
// ModelConfig): the shapes to send (batch size, --shape overrides for variable dimensions) and
// inputs filled with generated data. Shared by the command-line clients (sonic-infer, sonic perf,
// sonic scan's client jobs), which all work against sonic-server and stock Triton alike.
//
// Stateless functions, thread-compatible; FetchModelInterface blocks on two RPCs.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_service.grpc.pb.h"
#include "tensor_data.h"

namespace sonic::tools {

using TensorMetadata = inference::ModelMetadataResponse::TensorMetadata;

// What a client needs to know about a model to build its requests.
struct ModelInterface {
  inference::ModelMetadataResponse metadata;  // inputs and outputs; shapes include the batch
                                              // dimension (-1) when the model batches
  int max_batch_size = 0;                     // from ModelConfig; 0 = no batch dimension
  bool response_cache = false;                // ModelConfig's response_cache.enable
};

// gRPC metadata (key, value) sent with a client's RPCs.
using RpcMetadata = std::vector<std::pair<std::string, std::string>>;

// Reads `model`'s metadata and config (version "" = the server's choice), each RPC with
// `deadline` and `metadata`. Errors: the RPC's code, with the model named in the message.
absl::StatusOr<ModelInterface> FetchModelInterface(inference::GRPCInferenceService::StubInterface& stub,
                                                   const std::string& model,
                                                   const std::string& version,
                                                   absl::Duration deadline = absl::Seconds(30),
                                                   const RpcMetadata& metadata = {});

// Input name -> its shape without the batch dimension.
using ShapeOverrides = std::map<std::string, std::vector<int64_t>>;

// Parses --shape flags "NAME:d1,d2,..."; NAME must be an input of `model`. INVALID_ARGUMENT
// naming the flag otherwise.
absl::StatusOr<ShapeOverrides> ParseShapeFlags(const std::vector<std::string>& flags,
                                               const ModelInterface& model);

// Which requests to build.
struct RequestSpec {
  std::string model_name;
  std::string model_version;  // "" = the server's choice
  int64_t batch_size = 1;     // for models with max_batch_size > 0; must be 1 otherwise
  ShapeOverrides shapes;      // needed for inputs with variable dimensions
  int64_t string_length = 0;  // of each random BYTES element; 0 = a random integer's digits
};

// Whether `input` carries the model's batch dimension (the model batches and its first dim is -1).
bool IsBatched(const TensorMetadata& input, const ModelInterface& model);

// The full shape to send for `input`: the batch dimension first when batched, then the model's
// dims with variable ones taken from spec.shapes (which must then give every non-batch dimension
// and agree with the fixed ones). INVALID_ARGUMENT saying which --shape is missing or wrong, or
// when batch_size > 1 is asked of a model without a batch dimension.
absl::StatusOr<std::vector<int64_t>> ResolveInputShape(const TensorMetadata& input,
                                                       const ModelInterface& model,
                                                       const RequestSpec& spec);

// A request with every input of the model, shaped by ResolveInputShape and filled with `data`
// (random values from `rng`), contents in raw_input_contents. Outputs are not listed (the
// server returns all). Errors: ResolveInputShape's, or an input of an unknown datatype.
absl::StatusOr<inference::ModelInferRequest> MakeGeneratedRequest(const ModelInterface& model,
                                                                  const RequestSpec& spec,
                                                                  InputData data,
                                                                  std::mt19937_64& rng);

}  // namespace sonic::tools
