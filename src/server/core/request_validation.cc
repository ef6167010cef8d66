#include "server/core/request_validation.h"

#include <limits>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/core/batch_assembly.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

constexpr char kMaxInputElements[] = "max_input_elements";
constexpr char kEqualVariableDims[] = "equal_variable_dims";

const inference::ModelInput* FindInput(const inference::ModelConfig& config,
                                       std::string_view name) {
  for (const auto& input : config.input()) {
    if (input.name() == name) return &input;
  }
  return nullptr;
}

const RequestInput* FindRequestInput(const InferenceRequest& request, std::string_view name) {
  for (const RequestInput& input : request.inputs) {
    if (input.name == name) return &input;
  }
  return nullptr;
}

absl::StatusOr<std::vector<std::vector<std::string>>> ParseGroups(
    const inference::ModelConfig& config, const std::string& text) {
  std::vector<std::vector<std::string>> groups;
  // Debian's Abseil has its own string_view, which std::string_view does not convert to.
  for (absl::string_view group_text : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    std::vector<std::string> group;
    for (absl::string_view name : absl::StrSplit(group_text, ',', absl::SkipWhitespace())) {
      std::string trimmed(absl::StripAsciiWhitespace(name));
      if (FindInput(config, trimmed) == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("model '", config.name(), "': parameter ",
                                                       kEqualVariableDims, " names '", trimmed,
                                                       "', which is not an input"));
      }
      group.push_back(std::move(trimmed));
    }
    if (group.size() > 1) groups.push_back(std::move(group));
  }
  return groups;
}

// The product of the request's dimensions at the config dims' -1 positions.
int64_t VariableLength(const inference::ModelConfig& config, const inference::ModelInput& input,
                       const RequestInput& sent) {
  const size_t offset = config.max_batch_size() > 0 ? 1 : 0;
  int64_t length = 1;
  for (int i = 0; i < input.dims_size(); ++i) {
    const size_t at = offset + static_cast<size_t>(i);
    if (input.dims(i) == kVariableDim && at < sent.shape.size()) length *= sent.shape[at];
  }
  return length;
}

absl::Status CheckGroup(const inference::ModelConfig& config, const std::vector<std::string>& group,
                        const InferenceRequest& request) {
  const RequestInput* first = nullptr;
  int64_t first_length = 0;
  for (const std::string& name : group) {
    const RequestInput* sent = FindRequestInput(request, name);
    if (sent == nullptr) continue;  // an optional input not sent
    const int64_t length = VariableLength(config, *FindInput(config, name), *sent);
    if (first == nullptr) {
      first = sent;
      first_length = length;
    } else if (length != first_length) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", name, "' of model '", config.name(), "' has variable length ",
                       length, " (shape ", ShapeToString(sent->shape), ") but input '", first->name,
                       "' has ", first_length, " (shape ", ShapeToString(first->shape),
                       "); the model's ", kEqualVariableDims, " requires them equal"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBatchInputs(const inference::ModelConfig& config,
                              const InferenceRequest& request) {
  for (const auto& batch_input : config.batch_input()) {
    for (const std::string& source : batch_input.source_input()) {
      const RequestInput* sent = FindRequestInput(request, source);
      if (sent == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("model '", config.name(),
                                                       "' builds batch_input from input '", source,
                                                       "', which the request does not have"));
      }
      SONIC_ASSIGN_OR_RETURN(int64_t count, ElementCount(sent->shape));
      if (batch_input.data_type() == inference::TYPE_INT32 &&
          count > std::numeric_limits<int32_t>::max()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", source, "' of model '", config.name(), "' has ", count,
                         " elements, more than its INT32 batch_input can count"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RequestLimits> ReadRequestLimits(const inference::ModelConfig& config,
                                                uint64_t default_max_input_elements) {
  RequestLimits limits;
  limits.max_input_elements = default_max_input_elements;
  if (auto it = config.parameters().find(kMaxInputElements); it != config.parameters().end()) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(it->second.string_value(), &value) || value == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", config.name(), "': parameter ", kMaxInputElements,
                       " must be a positive integer, got '", it->second.string_value(), "'"));
    }
    limits.max_input_elements = value;
  }
  if (auto it = config.parameters().find(kEqualVariableDims); it != config.parameters().end()) {
    SONIC_ASSIGN_OR_RETURN(limits.equal_variable_dims,
                           ParseGroups(config, it->second.string_value()));
  }
  return limits;
}

absl::Status ValidateRequest(const inference::ModelConfig& config, const RequestLimits& limits,
                             const InferenceRequest& request) {
  for (const RequestInput& input : request.inputs) {
    SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(input.shape));
    if (static_cast<uint64_t>(elements) > limits.max_input_elements) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input.name, "' of model '", config.name(), "' has ", elements,
                       " elements, more than the model's limit of ", limits.max_input_elements,
                       " (config parameter ", kMaxInputElements, ", else --max-input-elements)"));
    }
    const inference::ModelInput* config_input = FindInput(config, input.name);
    if (config_input != nullptr && config_input->has_reshape() &&
        !config_input->allow_ragged_batch()) {
      absl::StatusOr<Shape> reshaped =
          ApplyReshape(input.shape, config.max_batch_size() > 0, config_input->reshape().shape());
      if (!reshaped.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", input.name, "' of model '", config.name(), "' of shape ",
                         ShapeToString(input.shape),
                         " does not fit the config reshape: ", reshaped.status().message()));
      }
    }
  }
  for (const auto& group : limits.equal_variable_dims) {
    SONIC_RETURN_IF_ERROR(CheckGroup(config, group, request));
  }
  return CheckBatchInputs(config, request);
}

}  // namespace sonic::server
