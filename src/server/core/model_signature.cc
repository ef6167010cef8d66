#include "server/core/model_signature.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

constexpr char kMaxInputElements[] = "max_input_elements";
constexpr char kEqualVariableDims[] = "equal_variable_dims";

// Debian's Abseil has its own absl::string_view, which std::string_view does not convert to.
absl::string_view View(std::string_view text) { return {text.data(), text.size()}; }

Shape Dims(const google::protobuf::RepeatedField<int64_t>& dims) {
  return Shape(dims.begin(), dims.end());
}

bool IsBatchInputTarget(const inference::ModelConfig& config, const std::string& name) {
  for (const auto& batch_input : config.batch_input()) {
    for (const std::string& target : batch_input.target_name()) {
      if (target == name) return true;
    }
  }
  return false;
}

ModelSignature::Input MakeInput(const inference::ModelConfig& config,
                                const inference::ModelInput& input) {
  ModelSignature::Input made;
  made.name = input.name();
  made.data_type = input.data_type();
  made.type = DataTypeFromNumber(input.data_type()).value_or(DataType::kInvalid);
  made.dims = Dims(input.dims());
  if (config.max_batch_size() > 0) made.client_shape.push_back(kVariableDim);
  made.client_shape.insert(made.client_shape.end(), made.dims.begin(), made.dims.end());
  if (input.has_reshape()) made.reshape = Dims(input.reshape().shape());
  made.allow_ragged_batch = input.allow_ragged_batch();
  made.optional = input.optional();
  made.is_shape_tensor = input.is_shape_tensor();
  made.built_by_server = IsBatchInputTarget(config, input.name());
  return made;
}

ModelSignature::Output MakeOutput(const inference::ModelConfig& config,
                                  const inference::ModelOutput& output) {
  ModelSignature::Output made;
  made.name = output.name();
  made.data_type = output.data_type();
  made.type = DataTypeFromNumber(output.data_type()).value_or(DataType::kInvalid);
  made.dims = Dims(output.dims());
  made.has_reshape = output.has_reshape();
  made.model_dims = made.has_reshape ? Dims(output.reshape().shape()) : made.dims;
  for (const auto& batch_output : config.batch_output()) {
    if (batch_output.kind() != inference::BatchOutput::BATCH_SCATTER_WITH_INPUT_SHAPE) continue;
    for (const std::string& target : batch_output.target_name()) {
      if (target != output.name()) continue;
      made.scattered = true;
      if (batch_output.source_input_size() == 1) made.scatter_source = batch_output.source_input(0);
      return made;
    }
  }
  return made;
}

absl::StatusOr<uint64_t> ReadMaxInputElements(const inference::ModelConfig& config,
                                              uint64_t default_value) {
  auto it = config.parameters().find(kMaxInputElements);
  if (it == config.parameters().end()) return default_value;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(it->second.string_value(), &value) || value == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", config.name(), "': parameter ", kMaxInputElements,
                     " must be a positive integer, got '", it->second.string_value(), "'"));
  }
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelSignature>> ModelSignature::Create(
    const inference::ModelConfig& config, uint64_t default_max_input_elements) {
  std::unique_ptr<ModelSignature> signature(new ModelSignature());
  signature->model_name_ = config.name();
  signature->platform_ = config.platform().empty() ? config.backend() : config.platform();
  signature->max_batch_size_ = config.max_batch_size();
  for (const inference::ModelInput& input : config.input()) {
    signature->input_index_.emplace(input.name(), static_cast<int>(signature->inputs_.size()));
    signature->inputs_.push_back(MakeInput(config, input));
  }
  for (const inference::ModelOutput& output : config.output()) {
    signature->output_index_.emplace(output.name(), static_cast<int>(signature->outputs_.size()));
    signature->outputs_.push_back(MakeOutput(config, output));
    signature->has_scattered_outputs_ |= signature->outputs_.back().scattered;
  }
  for (const inference::BatchInput& batch_input : config.batch_input()) {
    signature->batch_inputs_.push_back(
        BatchInput{batch_input.kind(),
                   batch_input.data_type(),
                   {batch_input.target_name().begin(), batch_input.target_name().end()},
                   {batch_input.source_input().begin(), batch_input.source_input().end()}});
  }
  SONIC_ASSIGN_OR_RETURN(signature->max_input_elements_,
                         ReadMaxInputElements(config, default_max_input_elements));
  auto groups = config.parameters().find(kEqualVariableDims);
  if (groups == config.parameters().end()) return signature;
  for (absl::string_view group_text :
       absl::StrSplit(groups->second.string_value(), ';', absl::SkipWhitespace())) {
    std::vector<int> group;
    for (absl::string_view name : absl::StrSplit(group_text, ',', absl::SkipWhitespace())) {
      const absl::string_view trimmed = absl::StripAsciiWhitespace(name);
      const int index = signature->FindInput(std::string_view(trimmed.data(), trimmed.size()));
      if (index < 0) {
        return absl::InvalidArgumentError(absl::StrCat("model '", config.name(), "': parameter ",
                                                       kEqualVariableDims, " names '", trimmed,
                                                       "', which is not an input"));
      }
      group.push_back(index);
    }
    if (group.size() > 1) signature->equal_variable_dims_.push_back(std::move(group));
  }
  return signature;
}

bool ModelSignature::IsBatchInputTarget(std::string_view name) const {
  for (const BatchInput& batch_input : batch_inputs_) {
    for (const std::string& target : batch_input.targets) {
      if (target == name) return true;
    }
  }
  return false;
}

int ModelSignature::FindInput(std::string_view name) const {
  auto it = input_index_.find(View(name));
  return it == input_index_.end() ? -1 : it->second;
}

int ModelSignature::FindOutput(std::string_view name) const {
  auto it = output_index_.find(View(name));
  return it == output_index_.end() ? -1 : it->second;
}

namespace {

// How far past the cursor a name is looked for before the hash lookup: a few optional inputs
// not sent. Bounded, so that names out of order cost a lookup each, not a scan.
constexpr size_t kScanAhead = 4;

// The index of the first of `tensors` in [cursor, cursor + kScanAhead) named `name`, or -1.
template <typename Tensor>
int FindFrom(const std::vector<Tensor>& tensors, std::string_view name, size_t cursor) {
  const size_t end = std::min(tensors.size(), cursor + kScanAhead);
  for (size_t i = cursor; i < end; ++i) {
    if (tensors[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

int ModelSignature::FindInput(std::string_view name, size_t& cursor) const {
  int index = FindFrom(inputs_, name, cursor);
  if (index < 0) index = FindInput(name);
  if (index >= 0) cursor = static_cast<size_t>(index) + 1;
  return index;
}

int ModelSignature::FindOutput(std::string_view name, size_t& cursor) const {
  int index = FindFrom(outputs_, name, cursor);
  if (index < 0) index = FindOutput(name);
  if (index >= 0) cursor = static_cast<size_t>(index) + 1;
  return index;
}

const ModelSignature::Input* ModelSignature::input(std::string_view name, size_t& cursor) const {
  const int index = FindInput(name, cursor);
  return index < 0 ? nullptr : &inputs_[index];
}

const ModelSignature::Output* ModelSignature::output(std::string_view name,
                                                     size_t& cursor) const {
  const int index = FindOutput(name, cursor);
  return index < 0 ? nullptr : &outputs_[index];
}

const ModelSignature::Input* ModelSignature::input(std::string_view name) const {
  const int index = FindInput(name);
  return index < 0 ? nullptr : &inputs_[index];
}

const ModelSignature::Output* ModelSignature::output(std::string_view name) const {
  const int index = FindOutput(name);
  return index < 0 ? nullptr : &outputs_[index];
}

}  // namespace sonic::server
