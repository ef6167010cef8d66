// ValidateModelConfig (declared in model_config_loader.h). Each check returns the first problem,
// with a message "model 'NAME': <field>: <what is wrong>".
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/repository/ensemble_config.h"
#include "server/repository/model_config_loader.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

using google::protobuf::RepeatedField;
using inference::BatchInput;
using inference::ModelConfig;
using inference::ModelInstanceGroup;

template <typename... Args>
absl::Status Invalid(const ModelConfig& config, const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat("model '", config.name(), "': ", args...));
}

template <typename... Args>
absl::Status Unsupported(const ModelConfig& config, const Args&... args) {
  return absl::UnimplementedError(
      absl::StrCat("model '", config.name(), "': ", args..., " is not supported by sonic-server"));
}

// "input[1] 'x'", the way messages name one element of a repeated field.
std::string FieldName(absl::string_view field, int index, absl::string_view name) {
  return absl::StrCat(field, "[", index, "] '", name, "'");
}

absl::Status ValidateBackend(const ModelConfig& config,
                             std::span<const std::string_view> supported_backends) {
  if (config.has_ensemble_scheduling()) {
    return Invalid(config, "ensemble_scheduling: needs platform 'ensemble', got platform '",
                   config.platform(), "'");
  }
  const absl::string_view platform_backend = ToAbsl(BackendForPlatform(config.platform()));
  if (config.backend().empty()) {
    if (!config.platform().empty()) {
      return Invalid(config, "platform: unknown platform '", config.platform(),
                     "'; set 'backend' instead");
    }
    return Invalid(config, "backend: neither 'backend' nor 'platform' is set");
  }
  if (!platform_backend.empty() && platform_backend != config.backend()) {
    return Invalid(config, "platform: '", config.platform(), "' belongs to backend '",
                   platform_backend, "', not to backend '", config.backend(), "'");
  }
  if (std::find(supported_backends.begin(), supported_backends.end(), config.backend()) ==
      supported_backends.end()) {
    return Unsupported(config, "backend '", config.backend(), "'");
  }
  return absl::OkStatus();
}

absl::Status ValidateSupportedFeatures(const ModelConfig& config) {
  if (config.has_sequence_batching()) return Unsupported(config, "sequence_batching");
  if (config.model_transaction_policy().decoupled()) {
    return Unsupported(config, "model_transaction_policy.decoupled");
  }
  if (config.response_cache().enable()) return Unsupported(config, "response_cache.enable");
  return absl::OkStatus();
}

// Checks each dimension of `shape` ("dims" or "reshape.shape") of tensor `field`, and that its
// fixed dimensions, times max_batch_size, hold no more than kMaxTensorElements.
absl::Status ValidateShape(const ModelConfig& config, absl::string_view field,
                           absl::string_view what, const RepeatedField<int64_t>& shape) {
  if (shape.empty() && config.max_batch_size() == 0) {
    return Invalid(config, field, ": ", what,
                   " must not be empty when max_batch_size is 0 (a scalar needs batching)");
  }
  uint64_t elements = static_cast<uint64_t>(std::max(config.max_batch_size(), 1));
  for (int64_t dim : shape) {
    if (dim <= 0 && dim != -1) {
      return Invalid(config, field, ": ", what, " must be positive or -1, got ", dim);
    }
    if (dim > 0 && __builtin_mul_overflow(elements, static_cast<uint64_t>(dim), &elements)) {
      elements = UINT64_MAX;
    }
  }
  if (elements > kMaxTensorElements) {
    return Invalid(config, field, ": ", what, " (times max_batch_size) hold more than ",
                   kMaxTensorElements, " elements, which no request can carry");
  }
  return absl::OkStatus();
}

// Element counts of the pieces of `shape` between its -1 dimensions; false on overflow.
bool SegmentElementCounts(const RepeatedField<int64_t>& shape, std::vector<int64_t>* counts) {
  counts->assign(1, 1);
  for (int64_t dim : shape) {
    if (dim == -1) {
      counts->push_back(1);
    } else if (__builtin_mul_overflow(counts->back(), dim, &counts->back())) {
      return false;
    }
  }
  return true;
}

// A reshape must keep the element count. With variable dimensions, both shapes must have as
// many -1s and the fixed pieces between them must hold equal element counts (Triton's rule).
absl::Status ValidateReshape(const ModelConfig& config, absl::string_view field,
                             const RepeatedField<int64_t>& dims,
                             const inference::ModelTensorReshape& reshape) {
  SONIC_RETURN_IF_ERROR(ValidateShape(config, field, "reshape.shape", reshape.shape()));
  std::vector<int64_t> from;
  std::vector<int64_t> to;
  if (!SegmentElementCounts(dims, &from) || !SegmentElementCounts(reshape.shape(), &to)) {
    return Invalid(config, field, ": dims or reshape.shape has too many elements");
  }
  if (from != to) {
    return Invalid(config, field,
                   ": reshape.shape must have the same element count as dims (and the same "
                   "variable dimensions)");
  }
  return absl::OkStatus();
}

template <typename Tensor>
absl::Status ValidateTensor(const ModelConfig& config, absl::string_view field,
                            const Tensor& tensor) {
  if (tensor.data_type() == inference::TYPE_INVALID ||
      !inference::DataType_IsValid(tensor.data_type())) {
    return Invalid(config, field, ": data_type must be set to a valid type");
  }
  SONIC_RETURN_IF_ERROR(ValidateShape(config, field, "dims", tensor.dims()));
  if (tensor.has_reshape()) {
    SONIC_RETURN_IF_ERROR(ValidateReshape(config, field, tensor.dims(), tensor.reshape()));
  }
  return absl::OkStatus();
}

// Shared by inputs and outputs: at least one, non-empty unique names, valid types and shapes.
template <typename Tensor>
absl::Status ValidateTensors(const ModelConfig& config, absl::string_view field,
                             const google::protobuf::RepeatedPtrField<Tensor>& tensors) {
  if (tensors.empty()) return Invalid(config, field, ": the model must have at least one ", field);
  std::set<std::string_view> names;
  for (int i = 0; i < tensors.size(); ++i) {
    const Tensor& tensor = tensors.Get(i);
    const std::string name = FieldName(field, i, tensor.name());
    if (tensor.name().empty()) return Invalid(config, name, ": name must not be empty");
    if (!names.insert(tensor.name()).second) {
      return Invalid(config, name, ": duplicate ", field, " name");
    }
    SONIC_RETURN_IF_ERROR(ValidateTensor(config, name, tensor));
  }
  return absl::OkStatus();
}

absl::Status ValidateInputsAndOutputs(const ModelConfig& config) {
  if (config.max_batch_size() < 0) {
    return Invalid(config, "max_batch_size: must be >= 0, got ", config.max_batch_size());
  }
  SONIC_RETURN_IF_ERROR(ValidateTensors(config, "input", config.input()));
  SONIC_RETURN_IF_ERROR(ValidateTensors(config, "output", config.output()));
  for (int i = 0; i < config.input_size(); ++i) {
    const inference::ModelInput& input = config.input(i);
    if (input.allow_ragged_batch() && config.max_batch_size() == 0) {
      return Invalid(config, FieldName("input", i, input.name()),
                     ": allow_ragged_batch requires max_batch_size > 0");
    }
  }
  return absl::OkStatus();
}

const inference::ModelInput* FindInput(const ModelConfig& config, std::string_view name) {
  for (const inference::ModelInput& input : config.input()) {
    if (input.name() == name) return &input;
  }
  return nullptr;
}

bool HasOutput(const ModelConfig& config, std::string_view name) {
  return std::any_of(config.output().begin(), config.output().end(),
                     [&](const inference::ModelOutput& output) { return output.name() == name; });
}

// The kinds that describe how a ragged (concatenated) input splits into requests.
bool NeedsRaggedSource(BatchInput::Kind kind) {
  return kind == BatchInput::BATCH_ELEMENT_COUNT ||
         kind == BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT ||
         kind == BatchInput::BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO ||
         kind == BatchInput::BATCH_MAX_ELEMENT_COUNT_AS_SHAPE;
}

absl::Status ValidateBatchInput(const ModelConfig& config, absl::string_view field,
                                const BatchInput& batch_input) {
  if (!BatchInput::Kind_IsValid(batch_input.kind())) {
    return Invalid(config, field, ": kind ", static_cast<int>(batch_input.kind()),
                   " is not a valid kind");
  }
  if (batch_input.data_type() != inference::TYPE_INT32 &&
      batch_input.data_type() != inference::TYPE_FP32) {
    return Invalid(config, field, ": data_type must be TYPE_INT32 or TYPE_FP32");
  }
  if (batch_input.source_input_size() != 1) {
    return Invalid(config, field, ": must have exactly one source_input, got ",
                   batch_input.source_input_size());
  }
  const std::string& source = batch_input.source_input(0);
  const inference::ModelInput* input = FindInput(config, source);
  if (input == nullptr) {
    return Invalid(config, field, ": source_input '", source, "' is not an input of the model");
  }
  if (NeedsRaggedSource(batch_input.kind()) && !input->allow_ragged_batch()) {
    return Invalid(config, field, ": source_input '", source, "' must set allow_ragged_batch for ",
                   BatchInput::Kind_Name(batch_input.kind()));
  }
  return absl::OkStatus();
}

absl::Status ValidateBatchInputs(const ModelConfig& config) {
  std::set<std::string_view> targets;
  for (int i = 0; i < config.batch_input_size(); ++i) {
    const BatchInput& batch_input = config.batch_input(i);
    const std::string target =
        batch_input.target_name_size() == 1 ? batch_input.target_name(0) : std::string();
    const std::string field = FieldName("batch_input", i, target);
    if (config.max_batch_size() == 0) {
      return Invalid(config, field, ": batch_input requires max_batch_size > 0");
    }
    if (batch_input.target_name_size() != 1) {
      return Invalid(config, field, ": must have exactly one target_name, got ",
                     batch_input.target_name_size());
    }
    if (target.empty()) return Invalid(config, field, ": target_name must not be empty");
    if (FindInput(config, target) != nullptr) {
      return Invalid(config, field, ": target_name collides with input '", target, "'");
    }
    if (!targets.insert(batch_input.target_name(0)).second) {
      return Invalid(config, field, ": duplicate target_name");
    }
    SONIC_RETURN_IF_ERROR(ValidateBatchInput(config, field, batch_input));
  }
  return absl::OkStatus();
}

absl::Status ValidateBatchOutputs(const ModelConfig& config) {
  for (int i = 0; i < config.batch_output_size(); ++i) {
    const inference::BatchOutput& batch_output = config.batch_output(i);
    const std::string field = absl::StrCat("batch_output[", i, "]");
    if (config.max_batch_size() == 0) {
      return Invalid(config, field, ": batch_output requires max_batch_size > 0");
    }
    if (batch_output.kind() != inference::BatchOutput::BATCH_SCATTER_WITH_INPUT_SHAPE) {
      return Invalid(config, field, ": kind must be BATCH_SCATTER_WITH_INPUT_SHAPE");
    }
    if (batch_output.target_name().empty()) {
      return Invalid(config, field, ": target_name must name at least one output");
    }
    for (const std::string& target : batch_output.target_name()) {
      if (!HasOutput(config, target)) {
        return Invalid(config, field, ": target_name '", target, "' is not an output of the model");
      }
    }
    if (batch_output.source_input_size() != 1) {
      return Invalid(config, field, ": must have exactly one source_input, got ",
                     batch_output.source_input_size());
    }
    if (FindInput(config, batch_output.source_input(0)) == nullptr) {
      return Invalid(config, field, ": source_input '", batch_output.source_input(0),
                     "' is not an input of the model");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePriorities(const ModelConfig& config) {
  const inference::ModelDynamicBatching& batching = config.dynamic_batching();
  const uint64_t levels = batching.priority_levels();
  const uint64_t default_level = batching.default_priority_level();
  if (levels > 0 && default_level == 0) {
    return Invalid(config, "dynamic_batching.default_priority_level: must be in 1..", levels,
                   " when priority_levels is set, got 0");
  }
  if (default_level > levels) {
    return Invalid(config, "dynamic_batching.default_priority_level: ", default_level,
                   " exceeds priority_levels ", levels);
  }
  for (const auto& [level, policy] : batching.priority_queue_policy()) {
    if (level == 0 || level > levels) {
      return Invalid(config, "dynamic_batching.priority_queue_policy: key ", level,
                     " is not a priority level in 1..", levels);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateQueuePolicy(const ModelConfig& config, absl::string_view field,
                                 const inference::ModelQueuePolicy& policy) {
  if (policy.default_timeout_microseconds() > kMaxQueueTimeoutMicroseconds) {
    return Invalid(config, field, ".default_timeout_microseconds: must be at most ",
                   kMaxQueueTimeoutMicroseconds, " (one day), got ",
                   policy.default_timeout_microseconds());
  }
  return absl::OkStatus();
}

absl::Status ValidateQueueTimes(const ModelConfig& config) {
  const inference::ModelDynamicBatching& batching = config.dynamic_batching();
  if (batching.max_queue_delay_microseconds() > kMaxQueueDelayMicroseconds) {
    return Invalid(config, "dynamic_batching.max_queue_delay_microseconds: must be at most ",
                   kMaxQueueDelayMicroseconds, " (one minute), got ",
                   batching.max_queue_delay_microseconds());
  }
  SONIC_RETURN_IF_ERROR(ValidateQueuePolicy(config, "dynamic_batching.default_queue_policy",
                                            batching.default_queue_policy()));
  for (const auto& [level, policy] : batching.priority_queue_policy()) {
    SONIC_RETURN_IF_ERROR(ValidateQueuePolicy(
        config, absl::StrCat("dynamic_batching.priority_queue_policy[", level, "]"), policy));
  }
  return absl::OkStatus();
}

absl::Status ValidateDynamicBatching(const ModelConfig& config) {
  if (!config.has_dynamic_batching()) return absl::OkStatus();
  if (config.max_batch_size() == 0) {
    return Invalid(config, "dynamic_batching: requires max_batch_size > 0");
  }
  SONIC_RETURN_IF_ERROR(ValidateQueueTimes(config));
  const auto& preferred = config.dynamic_batching().preferred_batch_size();
  for (int i = 0; i < preferred.size(); ++i) {
    if (preferred[i] < 1 || preferred[i] > config.max_batch_size()) {
      return Invalid(config, "dynamic_batching.preferred_batch_size[", i, "]: must be in 1..",
                     config.max_batch_size(), " (max_batch_size), got ", preferred[i]);
    }
  }
  return ValidatePriorities(config);
}

absl::Status ValidateInstanceGroups(const ModelConfig& config) {
  for (int i = 0; i < config.instance_group_size(); ++i) {
    const ModelInstanceGroup& group = config.instance_group(i);
    const std::string field = FieldName("instance_group", i, group.name());
    if (group.count() < 1) {
      return Invalid(config, field, ": count must be at least 1, got ", group.count());
    }
    if (!ModelInstanceGroup::Kind_IsValid(group.kind())) {
      return Invalid(config, field, ": kind ", static_cast<int>(group.kind()),
                     " is not a valid kind");
    }
    if (group.kind() == ModelInstanceGroup::KIND_MODEL) {
      return Unsupported(config, field, ": kind KIND_MODEL");
    }
    if (!group.gpus().empty() && group.kind() == ModelInstanceGroup::KIND_CPU) {
      return Invalid(config, field, ": gpus are only allowed with kind KIND_GPU, got KIND_CPU");
    }
    for (int32_t gpu : group.gpus()) {
      if (gpu < 0) return Invalid(config, field, ": gpus must be >= 0, got ", gpu);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateVersionPolicy(const ModelConfig& config) {
  const inference::ModelVersionPolicy& policy = config.version_policy();
  if (policy.has_latest() && policy.latest().num_versions() == 0) {
    return Invalid(config, "version_policy.latest.num_versions: must be at least 1");
  }
  if (policy.has_specific()) {
    const auto& versions = policy.specific().versions();
    if (versions.empty()) {
      return Invalid(config, "version_policy.specific.versions: must list at least one version");
    }
    for (int i = 0; i < versions.size(); ++i) {
      if (versions[i] <= 0) {
        return Invalid(config, "version_policy.specific.versions[", i,
                       "]: versions must be positive, got ", versions[i]);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateModelConfig(const ModelConfig& config,
                                 std::span<const std::string_view> supported_backends) {
  if (config.name().empty()) return Invalid(config, "name: must not be empty");
  if (IsEnsemble(config)) {
    SONIC_RETURN_IF_ERROR(ValidateSupportedFeatures(config));
    SONIC_RETURN_IF_ERROR(ValidateInputsAndOutputs(config));
    SONIC_RETURN_IF_ERROR(BuildEnsembleGraph(config).status());
    return ValidateVersionPolicy(config);
  }
  SONIC_RETURN_IF_ERROR(ValidateBackend(config, supported_backends));
  SONIC_RETURN_IF_ERROR(ValidateSupportedFeatures(config));
  SONIC_RETURN_IF_ERROR(ValidateInputsAndOutputs(config));
  SONIC_RETURN_IF_ERROR(ValidateBatchInputs(config));
  SONIC_RETURN_IF_ERROR(ValidateBatchOutputs(config));
  SONIC_RETURN_IF_ERROR(ValidateDynamicBatching(config));
  SONIC_RETURN_IF_ERROR(ValidateInstanceGroups(config));
  return ValidateVersionPolicy(config);
}

}  // namespace sonic::server
