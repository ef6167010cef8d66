// The only backend file that includes LibTorch (compile time: keep it that way).
#include "backends/pytorch/torch_model.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/common/model_config_util.h"
#include "backends/pytorch/io_mapping.h"
#include "backends/pytorch/operator_libraries.h"
#include "inference/model_config.pb.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::backends::pytorch {

struct TorchModel::State {
  std::string name;
  std::filesystem::path file;
  int max_batch_size = 0;
  torch::jit::Module module;  // As loaded; each instance runs a clone.
  // Config inputs, then batch-input targets.
  std::vector<std::string> input_names;
  std::vector<DataType> input_types;
  InputMapping input_mapping;
  std::vector<std::string> output_names;
  std::vector<DataType> output_types;
  std::vector<Shape> output_dims;  // reshape.shape when the output has a reshape, else dims.
  // Outputs named by a batch_output: their layout follows the ragged inputs, which the server
  // checks when it scatters them, so only their type is checked here.
  std::vector<bool> output_scattered;
  std::vector<int> output_positions;
  int intra_op_threads = 0;  // INTRA_OP_THREAD_COUNT; 0 = LibTorch's default
};

struct TorchInstance::State {
  std::shared_ptr<const TorchModel::State> model;
  std::string name;
  torch::jit::Module module;
  c10::Device device = c10::Device(c10::kCPU);
};

namespace {

// LibTorch's message without the C++ backtrace c10::Error appends: the reason, not the frames.
std::string TorchMessage(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) {
    return error->what_without_backtrace();
  }
  return e.what();
}

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
std::string TypeName(DataType type) { return std::string(WireName(type)); }

std::optional<at::ScalarType> ToScalarType(DataType type) {
  switch (type) {
    case DataType::kBool:
      return at::kBool;
    case DataType::kUint8:
      return at::kByte;
    case DataType::kInt8:
      return at::kChar;
    case DataType::kInt16:
      return at::kShort;
    case DataType::kInt32:
      return at::kInt;
    case DataType::kInt64:
      return at::kLong;
    case DataType::kFp16:
      return at::kHalf;
    case DataType::kFp32:
      return at::kFloat;
    case DataType::kFp64:
      return at::kDouble;
    case DataType::kBf16:
      return at::kBFloat16;
    default:
      return std::nullopt;
  }
}

std::optional<DataType> FromScalarType(at::ScalarType type) {
  for (DataType candidate :
       {DataType::kBool, DataType::kUint8, DataType::kInt8, DataType::kInt16, DataType::kInt32,
        DataType::kInt64, DataType::kFp16, DataType::kFp32, DataType::kFp64, DataType::kBf16}) {
    if (ToScalarType(candidate) == type) return candidate;
  }
  return std::nullopt;
}

absl::StatusOr<DataType> SupportedType(const std::string& model, const char* kind,
                                       const std::string& tensor, int32_t number) {
  std::optional<DataType> type = DataTypeFromNumber(number);
  if (!type.has_value() || !ToScalarType(*type).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pytorch model '", model, "': ", kind, " '", tensor, "' has type ",
        type.has_value() ? TypeName(*type) : "unknown",
        ", which the pytorch backend does not support (LibTorch has no such tensor type)"));
  }
  return *type;
}

// Reads INTRA_OP_THREAD_COUNT into `state` (applied per instance thread at execution) and sets
// the process-wide inter-op pool as torch_model.h describes.
absl::Status ApplyThreadParameters(const inference::ModelConfig& config, TorchModel::State& state) {
  SONIC_ASSIGN_OR_RETURN(int64_t intra,
                         GetIntParameter(config, "INTRA_OP_THREAD_COUNT", 0, 1, 4096));
  SONIC_ASSIGN_OR_RETURN(int64_t inter,
                         GetIntParameter(config, "INTER_OP_THREAD_COUNT", 0, 1, 4096));
  state.intra_op_threads = static_cast<int>(intra);
  static std::mutex mutex;
  static bool inter_set = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (inter > 0 && !inter_set) {
    inter_set = true;
    try {
      at::set_num_interop_threads(static_cast<int>(inter));
    } catch (const std::exception&) {
      // The pool is already running; see torch_model.h.
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTensorConfig(const inference::ModelConfig& config, TorchModel::State& state) {
  for (const inference::ModelInput& input : config.input()) {
    SONIC_ASSIGN_OR_RETURN(DataType type,
                           SupportedType(state.name, "input", input.name(), input.data_type()));
    state.input_names.push_back(input.name());
    state.input_types.push_back(type);
  }
  for (const inference::BatchInput& batch_input : config.batch_input()) {
    if (batch_input.target_name_size() == 0) continue;
    SONIC_ASSIGN_OR_RETURN(DataType type,
                           SupportedType(state.name, "batch input", batch_input.target_name(0),
                                         batch_input.data_type()));
    state.input_names.push_back(batch_input.target_name(0));
    state.input_types.push_back(type);
  }
  for (const inference::ModelOutput& output : config.output()) {
    SONIC_ASSIGN_OR_RETURN(DataType type,
                           SupportedType(state.name, "output", output.name(), output.data_type()));
    state.output_names.push_back(output.name());
    state.output_types.push_back(type);
    const auto& dims = output.has_reshape() ? output.reshape().shape() : output.dims();
    state.output_dims.emplace_back(dims.begin(), dims.end());
    bool scattered = false;
    for (const auto& batch_output : config.batch_output()) {
      for (const auto& target : batch_output.target_name()) scattered |= target == output.name();
    }
    state.output_scattered.push_back(scattered);
  }
  state.output_positions = MapOutputPositions(state.output_names);
  return absl::OkStatus();
}

absl::Status LoadModule(TorchModel::State& state) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(state.file, error)) {
    return absl::InvalidArgumentError(absl::StrCat("pytorch model '", state.name, "': model file ",
                                                   state.file.string(), " does not exist"));
  }
  try {
    state.module = torch::jit::load(state.file.string(), c10::Device(c10::kCPU));
    state.module.eval();
  } catch (const std::exception& e) {
    const std::string message = TorchMessage(e);
    // LibTorch's text for an unknown operator is kilobytes of TorchScript trace; one line says it.
    const std::optional<std::string> unknown_operator = UnknownOperatorReason(message);
    return absl::InvalidArgumentError(
        absl::StrCat("pytorch model '", state.name, "': cannot load ", state.file.string(),
                     unknown_operator.has_value() ? ": " : " as TorchScript: ",
                     unknown_operator.has_value() ? *unknown_operator : message));
  }
  return absl::OkStatus();
}

absl::Status MapForwardArguments(TorchModel::State& state) {
  std::vector<std::string> argument_names;
  try {
    const c10::FunctionSchema& schema = state.module.get_method("forward").function().getSchema();
    for (size_t i = 1; i < schema.arguments().size(); ++i) {  // 0 is self.
      argument_names.push_back(schema.arguments()[i].name());
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("pytorch model '", state.name,
                                                   "': ", state.file.string(),
                                                   " has no usable forward(): ", TorchMessage(e)));
  }
  absl::StatusOr<InputMapping> mapping = MapInputs(argument_names, state.input_names);
  if (!mapping.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pytorch model '", state.name, "': ", mapping.status().message()));
  }
  state.input_mapping = *std::move(mapping);
  return absl::OkStatus();
}

const SonicBackendTensor* FindTensor(std::span<const SonicBackendTensor> tensors,
                                     std::string_view name) {
  for (const SonicBackendTensor& tensor : tensors) {
    if (tensor.name != nullptr && name == tensor.name) return &tensor;
  }
  return nullptr;
}

// A tensor over the server's buffer (no copy), after checking type and size.
absl::StatusOr<at::Tensor> WrapInput(const std::string& model, const SonicBackendTensor& input,
                                     DataType expected) {
  if (input.data_type != static_cast<int32_t>(expected)) {
    std::optional<DataType> got = DataTypeFromNumber(input.data_type);
    return absl::InvalidArgumentError(absl::StrCat(
        "pytorch model '", model, "': input '", input.name, "' is ",
        got.has_value() ? TypeName(*got) : "of unknown type", ", expected ", TypeName(expected)));
  }
  std::span<const int64_t> shape(input.shape, input.rank);
  absl::StatusOr<int64_t> count = ElementCount(shape);
  if (!count.ok() || static_cast<uint64_t>(*count) * ElementSize(expected) != input.byte_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pytorch model '", model, "': input '", input.name, "' has ", input.byte_size,
        " bytes, which does not match ", TypeName(expected), " shape ", ShapeToString(shape)));
  }
  return at::from_blob(const_cast<void*>(input.data), at::IntArrayRef(input.shape, input.rank),
                       at::TensorOptions().dtype(*ToScalarType(expected)));
}

// The result element for config output `index`.
absl::StatusOr<at::Tensor> PickOutput(const TorchModel::State& model, const c10::IValue& result,
                                      size_t index) {
  const std::string& name = model.output_names[index];
  const int position = model.output_positions[index];
  c10::IValue picked;
  if (result.isTensor()) {
    if (position == 0) picked = result;
  } else if (result.isTuple() || result.isList()) {
    const auto elements =
        result.isTuple() ? result.toTupleRef().elements().vec() : result.toList().vec();
    if (position >= 0 && static_cast<size_t>(position) < elements.size()) {
      picked = elements[position];
    }
  } else if (result.isGenericDict()) {
    c10::Dict<c10::IValue, c10::IValue> dict = result.toGenericDict();
    auto it = dict.find(c10::IValue(name));
    if (it != dict.end()) picked = it->value();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("pytorch model '", model.name, "': forward() returned ", result.tagKind(),
                     "; expected a Tensor, a tuple or list of Tensors, or a Dict[str, Tensor]"));
  }
  if (!picked.isTensor()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pytorch model '", model.name, "': forward()'s result has no tensor for output '", name,
        "' (", result.isGenericDict() ? "no such key" : absl::StrCat("position ", position),
        " in a ", result.tagKind(), ")"));
  }
  return picked.toTensor();
}

absl::Status CheckOutput(const TorchModel::State& model, size_t index, const at::Tensor& tensor,
                         uint64_t batch_size) {
  const std::string& name = model.output_names[index];
  const DataType expected_type = model.output_types[index];
  std::optional<DataType> type = FromScalarType(tensor.scalar_type());
  if (type != expected_type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pytorch model '", model.name, "': output '", name, "' should be ", TypeName(expected_type),
        " but the model produced ", c10::toString(tensor.scalar_type())));
  }
  if (model.output_scattered[index]) return absl::OkStatus();
  Shape expected = model.output_dims[index];
  if (model.max_batch_size > 0) expected.insert(expected.begin(), static_cast<int64_t>(batch_size));
  const Shape got(tensor.sizes().begin(), tensor.sizes().end());
  if (!MatchesDims(expected, got)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pytorch model '", model.name, "': output '", name, "' should have shape ",
                     ShapeToString(expected), model.max_batch_size > 0 ? " (batch first)" : "",
                     " but the model produced ", ShapeToString(got)));
  }
  return absl::OkStatus();
}

absl::Status WriteOutput(const TorchModel::State& model, const std::string& name, DataType type,
                         const at::Tensor& tensor, const SonicBackendOutputAllocator& allocator) {
  const at::Tensor host = tensor.to(c10::kCPU).contiguous();
  const uint64_t byte_size = static_cast<uint64_t>(host.numel()) * host.element_size();
  const std::vector<int64_t> shape(host.sizes().begin(), host.sizes().end());
  void* buffer = allocator.allocate(allocator.context, name.c_str(), static_cast<int32_t>(type),
                                    shape.data(), static_cast<uint32_t>(shape.size()), byte_size);
  if (buffer == nullptr && byte_size > 0) {
    return absl::InternalError(absl::StrCat("pytorch model '", model.name,
                                            "': the server refused to allocate output '", name,
                                            "' (", byte_size, " bytes)"));
  }
  if (byte_size > 0) std::memcpy(buffer, host.data_ptr(), byte_size);
  return absl::OkStatus();
}

}  // namespace

TorchModel::TorchModel(std::shared_ptr<const State> state) : state_(std::move(state)) {}
TorchModel::~TorchModel() = default;

absl::StatusOr<std::unique_ptr<TorchModel>> TorchModel::Create(const SonicBackendModelSpec& spec) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(spec));
  auto state = std::make_shared<State>();
  state->name = spec.name == nullptr ? "" : spec.name;
  state->max_batch_size = config.max_batch_size();
  state->file =
      std::filesystem::path(spec.version_path == nullptr ? "" : spec.version_path) /
      (config.default_model_filename().empty() ? "model.pt" : config.default_model_filename());
  SONIC_RETURN_IF_ERROR(ReadTensorConfig(config, *state));
  SONIC_RETURN_IF_ERROR(ApplyThreadParameters(config, *state));
  SONIC_RETURN_IF_ERROR(
      LoadOperatorLibraries(spec, config, absl::StrCat("pytorch model '", state->name, "'")));
  SONIC_RETURN_IF_ERROR(LoadModule(*state));
  SONIC_RETURN_IF_ERROR(MapForwardArguments(*state));
  return std::unique_ptr<TorchModel>(new TorchModel(std::move(state)));
}

absl::StatusOr<std::unique_ptr<TorchInstance>> TorchModel::CreateInstance(
    const SonicBackendInstanceSpec& spec) const {
  auto instance = std::make_unique<TorchInstance::State>();
  instance->model = state_;
  instance->name = spec.name == nullptr ? "" : spec.name;
  if (spec.kind == SONIC_BACKEND_INSTANCE_GPU) {
    const std::string context = absl::StrCat("pytorch model '", state_->name, "' instance '",
                                             instance->name, "': GPU ", spec.device_id);
    if (!at::hasCUDA()) {
      return absl::FailedPreconditionError(absl::StrCat(
          context, " requested but this LibTorch has no CUDA (build the backend against a "
                   "CUDA-enabled LibTorch, see README)"));
    }
    if (spec.device_id < 0 || spec.device_id >= static_cast<int32_t>(at::getNumGPUs())) {
      return absl::FailedPreconditionError(absl::StrCat(
          context, " requested but LibTorch sees ", at::getNumGPUs(), " CUDA device(s)"));
    }
    instance->device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(spec.device_id));
  }
  try {
    instance->module = state_->module.clone();
    instance->module.to(instance->device);
    instance->module.eval();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("pytorch model '", state_->name, "' instance '",
                                            instance->name, "': cannot copy the module to ",
                                            instance->device.str(), ": ", TorchMessage(e)));
  }
  return std::make_unique<TorchInstance>(std::move(instance));
}

TorchInstance::TorchInstance(std::unique_ptr<State> state) : state_(std::move(state)) {}
TorchInstance::~TorchInstance() = default;

absl::Status TorchInstance::Execute(std::span<const SonicBackendTensor> inputs,
                                    std::span<const char* const> output_names, uint64_t batch_size,
                                    const SonicBackendOutputAllocator& allocator) {
  const TorchModel::State& model = *state_->model;
  // LibTorch's intra-op pool is OpenMP here, whose thread count is per calling thread: each
  // instance's worker thread gets the model's count.
  if (model.intra_op_threads > 0 && at::get_num_threads() != model.intra_op_threads) {
    at::set_num_threads(model.intra_op_threads);
  }
  c10::InferenceMode inference_mode;
  torch::NoGradGuard no_grad;
  // The instance's GPU is current while it runs (worker threads are not tied to a device).
  c10::OptionalDeviceGuard device_guard;
  if (state_->device.is_cuda()) device_guard.reset_device(state_->device);
  std::vector<c10::IValue> arguments;
  for (int input_index : model.input_mapping.argument_to_input) {
    const std::string& name = model.input_names[input_index];
    const SonicBackendTensor* input = FindTensor(inputs, name);
    if (input == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("pytorch model '", model.name, "': input '", name, "' was not provided"));
    }
    SONIC_ASSIGN_OR_RETURN(at::Tensor tensor,
                           WrapInput(model.name, *input, model.input_types[input_index]));
    // On a GPU instance: the one host-to-device copy of this batch input.
    arguments.emplace_back(tensor.to(state_->device));
  }
  c10::IValue result;
  try {
    result = state_->module.forward(std::move(arguments));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("pytorch model '", model.name, "': forward() failed: ", TorchMessage(e)));
  }
  for (const char* requested : output_names) {
    const std::string name = requested == nullptr ? "" : requested;
    auto it = std::find(model.output_names.begin(), model.output_names.end(), name);
    if (it == model.output_names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pytorch model '", model.name, "' has no output '", name, "'"));
    }
    const size_t index = static_cast<size_t>(it - model.output_names.begin());
    SONIC_ASSIGN_OR_RETURN(at::Tensor tensor, PickOutput(model, result, index));
    SONIC_RETURN_IF_ERROR(CheckOutput(model, index, tensor, batch_size));
    SONIC_RETURN_IF_ERROR(WriteOutput(model, name, model.output_types[index], tensor, allocator));
  }
  return absl::OkStatus();
}

}  // namespace sonic::backends::pytorch
