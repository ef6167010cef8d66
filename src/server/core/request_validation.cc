#include "server/core/request_validation.h"

#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "server/core/batch_assembly.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

const RequestInput* FindRequestInput(const InferenceRequest& request, std::string_view name) {
  for (const RequestInput& input : request.inputs) {
    if (input.name == name) return &input;
  }
  return nullptr;
}

// The product of the request's dimensions at the config dims' -1 positions.
int64_t VariableLength(const ModelSignature& signature, const ModelSignature::Input& input,
                       const RequestInput& sent) {
  const size_t offset = signature.batched() ? 1 : 0;
  int64_t length = 1;
  for (size_t i = 0; i < input.dims.size(); ++i) {
    const size_t at = offset + i;
    if (input.dims[i] == kVariableDim && at < sent.shape.size()) length *= sent.shape[at];
  }
  return length;
}

absl::Status CheckGroup(const ModelSignature& signature, const std::vector<int>& group,
                        const InferenceRequest& request) {
  const RequestInput* first = nullptr;
  int64_t first_length = 0;
  for (int index : group) {
    const ModelSignature::Input& input = signature.inputs()[index];
    const RequestInput* sent = FindRequestInput(request, input.name);
    if (sent == nullptr) continue;  // an optional input not sent
    const int64_t length = VariableLength(signature, input, *sent);
    if (first == nullptr) {
      first = sent;
      first_length = length;
    } else if (length != first_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", input.name, "' of model '", signature.model_name(), "' has variable length ",
          length, " (shape ", ShapeToString(sent->shape), ") but input '", first->name, "' has ",
          first_length, " (shape ", ShapeToString(first->shape),
          "); the model's equal_variable_dims requires them equal"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBatchInputs(const ModelSignature& signature, const InferenceRequest& request) {
  for (const ModelSignature::BatchInput& batch_input : signature.batch_inputs()) {
    for (const std::string& source : batch_input.sources) {
      const RequestInput* sent = FindRequestInput(request, source);
      if (sent == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("model '", signature.model_name(),
                                                       "' builds batch_input from input '", source,
                                                       "', which the request does not have"));
      }
      SONIC_ASSIGN_OR_RETURN(int64_t count, ElementCount(sent->shape));
      if (batch_input.data_type == inference::TYPE_INT32 &&
          count > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", source, "' of model '", signature.model_name(), "' has ", count,
                         " elements, more than its INT32 batch_input can count"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequest(const ModelSignature& signature, const InferenceRequest& request) {
  size_t cursor = 0;
  for (const RequestInput& input : request.inputs) {
    SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(input.shape));
    if (static_cast<uint64_t>(elements) > signature.max_input_elements()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", input.name, "' of model '", signature.model_name(), "' has ", elements,
          " elements, more than the model's limit of ", signature.max_input_elements(),
          " (config parameter max_input_elements, else --max-input-elements)"));
    }
    const ModelSignature::Input* config_input = signature.input(input.name, cursor);
    if (config_input != nullptr && config_input->reshape && !config_input->allow_ragged_batch) {
      absl::StatusOr<Shape> reshaped =
          ApplyReshape(input.shape, signature.batched(), *config_input->reshape);
      if (!reshaped.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", input.name, "' of model '", signature.model_name(),
                         "' of shape ", ShapeToString(input.shape),
                         " does not fit the config reshape: ", reshaped.status().message()));
      }
    }
  }
  for (const std::vector<int>& group : signature.equal_variable_dims()) {
    SONIC_RETURN_IF_ERROR(CheckGroup(signature, group, request));
  }
  return CheckBatchInputs(signature, request);
}

}  // namespace sonic::server
