// What the request path needs to know of one model version's configuration, built once when the
// version loads: its inputs and outputs by name (datatype, dims, reshape, ragged, optional), the
// inputs the server builds itself (`batch_input` targets), the outputs it scatters
// (`batch_output` BATCH_SCATTER_WITH_INPUT_SHAPE) and the model's bounds on one request. The
// parser, request validation, batch assembly, the batch executor and the metadata builder read
// it instead of searching the config's repeated fields for every request.
//
// The bounds come from the config's `parameters` (ignored by the backends, which skip keys they
// do not know):
//   max_input_elements: the most elements (batch dimension included) any one input of one
//     request may have, a positive integer; without it the server's default
//     (--max-input-elements). A model whose work grows faster than its inputs (a kNN over a jet's
//     constituents) sets it to what it can afford.
//   equal_variable_dims: groups of inputs, "a,b;c,d", whose variable lengths must be equal in
//     every request (the inputs of a group describe the same items, e.g. each constituent's
//     points and features). An input's variable length is the product of its dimensions that are
//     -1 in the config dims (for pf_points [-1, 2] sent as [1, n, 2]: n).
//
// Immutable once built; thread-safe. Owned by the ModelVersion; the components of its request
// path borrow it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic::server {

class ModelSignature {
 public:
  struct Input {
    std::string name;
    inference::DataType data_type = inference::TYPE_INVALID;  // as in the config
    DataType type = DataType::kInvalid;  // the same; kInvalid when it has no wire name
    Shape dims;                          // the config dims, without the batch dimension
    // The shape a client sends: dims with a leading -1 when the model batches.
    Shape client_shape;
    std::optional<Shape> reshape;  // the config `reshape`
    bool allow_ragged_batch = false;
    bool optional = false;
    bool is_shape_tensor = false;
    // Also a `batch_input` target (a config the validator refuses): clients must not send it.
    bool built_by_server = false;
  };

  struct Output {
    std::string name;
    inference::DataType data_type = inference::TYPE_INVALID;
    DataType type = DataType::kInvalid;
    Shape dims;  // the config dims: what clients see, without the batch dimension
    // What the backend produces, without the batch dimension: the `reshape` when the output has
    // one, else dims.
    Shape model_dims;
    bool has_reshape = false;
    // A target of a BATCH_SCATTER_WITH_INPUT_SHAPE `batch_output` (the first such naming it).
    bool scattered = false;
    // That batch_output's source_input when it names exactly one.
    std::optional<std::string> scatter_source;
  };

  // One config `batch_input`, as the config has it (the validator checks it has one target and
  // one source; assembly reports it when not).
  struct BatchInput {
    inference::BatchInput::Kind kind = inference::BatchInput::BATCH_ELEMENT_COUNT;
    inference::DataType data_type = inference::TYPE_INVALID;
    std::vector<std::string> targets;
    std::vector<std::string> sources;
  };

  // Builds the signature of a validated and normalized `config`; `default_max_input_elements`
  // applies unless the config's max_input_elements parameter says otherwise. INVALID_ARGUMENT
  // naming the model and the parameter when max_input_elements is not a positive integer or
  // equal_variable_dims names something that is not an input. Where a config repeats a name, the
  // first tensor of that name is the one found (the validator refuses such configs).
  static absl::StatusOr<std::unique_ptr<ModelSignature>> Create(
      const inference::ModelConfig& config, uint64_t default_max_input_elements);

  ModelSignature(const ModelSignature&) = delete;
  ModelSignature& operator=(const ModelSignature&) = delete;

  const std::string& model_name() const { return model_name_; }
  // config.platform, or config.backend when the platform is empty (what ModelMetadata reports).
  const std::string& platform() const { return platform_; }
  int64_t max_batch_size() const { return max_batch_size_; }
  // Whether requests carry a leading batch dimension (max_batch_size > 0).
  bool batched() const { return max_batch_size_ > 0; }

  // In config order.
  std::span<const Input> inputs() const { return inputs_; }
  std::span<const Output> outputs() const { return outputs_; }
  std::span<const BatchInput> batch_inputs() const { return batch_inputs_; }

  // The index in inputs() / outputs() of the tensor named `name`, or -1.
  int FindInput(std::string_view name) const;
  int FindOutput(std::string_view name) const;
  // Null when there is no such tensor.
  const Input* input(std::string_view name) const;
  const Output* output(std::string_view name) const;

  // As above, for names that mostly come in config order (a request's inputs, which the parser
  // delivers in config order; outputs as requested): looks at the few tensors from `cursor` on
  // first and moves it past the match, so a walk over such names costs about one comparison a
  // name; a name out of order costs a hash lookup. Start each walk with cursor 0.
  int FindInput(std::string_view name, size_t& cursor) const;
  int FindOutput(std::string_view name, size_t& cursor) const;
  const Input* input(std::string_view name, size_t& cursor) const;
  const Output* output(std::string_view name, size_t& cursor) const;
  // Whether any output is scattered (most models have none, and skip the lookup).
  bool has_scattered_outputs() const { return has_scattered_outputs_; }

  // Whether `name` is the target_name of a batch_input (a tensor the server builds and clients
  // must not send; the validator keeps targets apart from the config inputs).
  bool IsBatchInputTarget(std::string_view name) const;

  uint64_t max_input_elements() const { return max_input_elements_; }
  // The groups of equal_variable_dims with more than one input, as indices into inputs().
  const std::vector<std::vector<int>>& equal_variable_dims() const { return equal_variable_dims_; }

 private:
  ModelSignature() = default;

  std::string model_name_;
  std::string platform_;
  int64_t max_batch_size_ = 0;
  std::vector<Input> inputs_;
  std::vector<Output> outputs_;
  std::vector<BatchInput> batch_inputs_;
  bool has_scattered_outputs_ = false;
  absl::flat_hash_map<std::string, int> input_index_;
  absl::flat_hash_map<std::string, int> output_index_;
  uint64_t max_input_elements_ = 0;
  std::vector<std::vector<int>> equal_variable_dims_;
};

}  // namespace sonic::server
