#include "server/frontend/infer_request_parser.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"
#include "sonic/common/tensor_view.h"

namespace sonic::server {
namespace {

using inference::InferParameter;
using inference::InferTensorContents;
using inference::ModelConfig;
using inference::ModelInferRequest;
using inference::ModelInput;
using InputTensor = ModelInferRequest::InferInputTensor;
using OutputTensorRequest = ModelInferRequest::InferRequestedOutputTensor;
using ParameterMap = google::protobuf::Map<std::string, InferParameter>;
template <typename T>
using RepeatedField = google::protobuf::RepeatedField<T>;

// Slot markers: a config input the client did not send; an input whose bytes are not in
// raw_input_contents (shared memory, or typed contents when no raw contents were sent).
constexpr int kNotSent = -1;
constexpr int kInSharedMemory = -2;
constexpr int kTypedContents = -3;

std::span<const int64_t> AsSpan(const RepeatedField<int64_t>& values) {
  return std::span<const int64_t>(values.data(), static_cast<size_t>(values.size()));
}

std::span<const std::byte> AsBytes(const std::string& s) {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

// Debian's Abseil has its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view, so messages use this spelling of a type's wire name.
absl::string_view TypeName(DataType type) {
  std::string_view name = WireName(type);
  return absl::string_view(name.data(), name.size());
}

// A name the client sent, shortened for an error message (sonic/common/status.h).
std::string Quote(absl::string_view text) { return Quoted({text.data(), text.size()}); }

std::string InputContext(absl::string_view input, const ModelConfig& config) {
  return absl::StrCat("input '", input, "' of model '", config.name(), "'");
}

// ----------------------------------------------------------------------------- shared memory
// A tensor carrying any of these parameters lives in a registered shared-memory region rather
// than in the message. Without a region registry (the overload without one) every reference is
// refused through SharedMemoryNotSupported(). Inputs in shared memory are left out of the
// raw_input_contents count (AssignRawContents).

bool UsesSharedMemory(const ParameterMap& parameters) {
  return parameters.contains("shared_memory_region") ||
         parameters.contains("shared_memory_byte_size") ||
         parameters.contains("shared_memory_offset");
}

absl::Status SharedMemoryNotSupported(absl::string_view kind, absl::string_view name,
                                      const ModelConfig& config) {
  return absl::UnimplementedError(absl::StrCat(kind, " '", name, "' of model '", config.name(),
                                               "' is in shared memory: shared memory is not "
                                               "supported yet"));
}

struct SharedMemoryReference {
  std::string region;
  uint64_t byte_size = 0;
  uint64_t offset = 0;
};

absl::StatusOr<uint64_t> SharedMemorySize(const ParameterMap& parameters, const std::string& key) {
  const InferParameter& value = parameters.at(key);
  if (value.parameter_choice_case() == InferParameter::kUint64Param) return value.uint64_param();
  if (value.parameter_choice_case() == InferParameter::kInt64Param && value.int64_param() >= 0) {
    return static_cast<uint64_t>(value.int64_param());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("parameter '", key, "' must be a non-negative int64_param or uint64_param"));
}

absl::StatusOr<SharedMemoryReference> ParseSharedMemoryReference(const ParameterMap& parameters) {
  auto region = parameters.find("shared_memory_region");
  if (region == parameters.end()) {
    return absl::InvalidArgumentError(
        "has shared_memory_byte_size or shared_memory_offset without shared_memory_region");
  }
  if (region->second.parameter_choice_case() != InferParameter::kStringParam) {
    return absl::InvalidArgumentError("parameter 'shared_memory_region' must be a string_param");
  }
  if (!parameters.contains("shared_memory_byte_size")) {
    return absl::InvalidArgumentError("has shared_memory_region without shared_memory_byte_size");
  }
  SharedMemoryReference reference;
  reference.region = region->second.string_param();
  SONIC_ASSIGN_OR_RETURN(reference.byte_size,
                         SharedMemorySize(parameters, "shared_memory_byte_size"));
  if (parameters.contains("shared_memory_offset")) {
    SONIC_ASSIGN_OR_RETURN(reference.offset, SharedMemorySize(parameters, "shared_memory_offset"));
  }
  return reference;
}

// The region a tensor names, its window [offset, offset + byte_size) checked within it.
struct ResolvedSharedMemory {
  std::shared_ptr<const SharedMemoryRegion> region;
  SharedMemoryReference reference;
};

absl::StatusOr<ResolvedSharedMemory> ResolveSharedMemory(const ParameterMap& parameters,
                                                         const ClientRegions& regions) {
  SONIC_ASSIGN_OR_RETURN(SharedMemoryReference reference, ParseSharedMemoryReference(parameters));
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<const SharedMemoryRegion> region,
                         regions.Acquire(reference.region));
  SONIC_RETURN_IF_ERROR(region->CheckWindow(reference.offset, reference.byte_size));
  return ResolvedSharedMemory{std::move(region), std::move(reference)};
}

// ------------------------------------------------------------------------- request parameters

absl::string_view ParameterTypeName(const InferParameter& value) {
  switch (value.parameter_choice_case()) {
    case InferParameter::kBoolParam:
      return "bool_param";
    case InferParameter::kInt64Param:
      return "int64_param";
    case InferParameter::kStringParam:
      return "string_param";
    case InferParameter::kDoubleParam:
      return "double_param";
    case InferParameter::kUint64Param:
      return "uint64_param";
    default:
      return "no value";
  }
}

absl::StatusOr<uint64_t> NonNegativeParameter(absl::string_view key, const InferParameter& value,
                                              bool allow_uint64, const ModelConfig& config) {
  std::string context =
      absl::StrCat("parameter '", key, "' of a request to model '", config.name(), "'");
  if (value.parameter_choice_case() == InferParameter::kUint64Param && allow_uint64) {
    return value.uint64_param();
  }
  if (value.parameter_choice_case() != InferParameter::kInt64Param) {
    return absl::InvalidArgumentError(absl::StrCat(context, " must be int64_param",
                                                   allow_uint64 ? " or uint64_param" : "", ", got ",
                                                   ParameterTypeName(value)));
  }
  if (value.int64_param() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(context, " must be >= 0, got ", value.int64_param()));
  }
  return static_cast<uint64_t>(value.int64_param());
}

absl::Status ParseRequestParameters(const ParameterMap& parameters, const ModelConfig& config,
                                    InferenceRequest& request) {
  for (const auto& entry : parameters) {
    const std::string& key = entry.first;
    if (key == "priority") {
      SONIC_ASSIGN_OR_RETURN(request.priority,
                             NonNegativeParameter(key, entry.second, true, config));
    } else if (key == "timeout") {
      SONIC_ASSIGN_OR_RETURN(request.timeout_us,
                             NonNegativeParameter(key, entry.second, false, config));
    } else if (key == "sequence_id" || key == "sequence_start" || key == "sequence_end") {
      // No model here has the sequence batcher (the config validator refuses it), and Triton
      // ignores these parameters on models without it.
      continue;
    } else if (key == kEnableEmptyFinalResponse) {
      // The stock C++ client sends it with every request. A model that is not decoupled gives
      // exactly one response per request, which is itself the final one, so there is never an
      // empty final response to send: only the type is checked.
      if (entry.second.parameter_choice_case() != InferParameter::kBoolParam) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parameter '", key, "' of a request to model '", config.name(),
            "' must be bool_param, got ", ParameterTypeName(entry.second)));
      }
    } else if (absl::StartsWith(key, "triton_")) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", Quote(key), "' of a request to model '", config.name(),
                       "' is not allowed: keys starting with 'triton_' are reserved"));
    }
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------- matching inputs

bool IsBatchInputTarget(const ModelConfig& config, absl::string_view name) {
  for (const auto& batch_input : config.batch_input()) {
    for (const std::string& target : batch_input.target_name()) {
      if (target == name) return true;
    }
  }
  return false;
}

// Index of the config input a client may send under `name`, or -1.
int FindClientInput(const ModelConfig& config, absl::string_view name) {
  for (int i = 0; i < config.input_size(); ++i) {
    if (config.input(i).name() == name) return IsBatchInputTarget(config, name) ? -1 : i;
  }
  return -1;
}

absl::Status UnknownInputError(const ModelConfig& config, absl::string_view name) {
  if (IsBatchInputTarget(config, name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", Quote(name), "' of model '", config.name(),
                     "' is a batch_input that the server builds; clients must not send it"));
  }
  std::vector<absl::string_view> expected;
  for (const ModelInput& input : config.input()) {
    if (!IsBatchInputTarget(config, input.name())) expected.push_back(input.name());
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown input '", Quote(name), "' for model '",
                                                 config.name(), "', which expects inputs [",
                                                 absl::StrJoin(expected, ", "), "]"));
}

// For each config input, the index of the message input that carries it, or kNotSent. Stops
// at the first unknown or repeated name, so the work is bounded by the config's input count.
absl::StatusOr<std::vector<int>> MatchInputs(const ModelInferRequest& message,
                                             const ModelConfig& config) {
  std::vector<int> sent(static_cast<size_t>(config.input_size()), kNotSent);
  for (int i = 0; i < message.inputs_size(); ++i) {
    const std::string& name = message.inputs(i).name();
    int slot = FindClientInput(config, name);
    if (slot < 0) return UnknownInputError(config, name);
    if (sent[slot] != kNotSent) {
      return absl::InvalidArgumentError(
          absl::StrCat(InputContext(name, config), " appears more than once in the request"));
    }
    sent[slot] = i;
  }
  for (int c = 0; c < config.input_size(); ++c) {
    const ModelInput& input = config.input(c);
    if (sent[c] == kNotSent && !input.optional() && !IsBatchInputTarget(config, input.name())) {
      return absl::InvalidArgumentError(absl::StrCat("model '", config.name(), "' requires input '",
                                                     input.name(),
                                                     "', which the request does not have"));
    }
  }
  return sent;
}

// For each message input, its index in raw_input_contents, kInSharedMemory, or kTypedContents
// (when the request has no raw contents at all, every other input must use typed contents).
absl::StatusOr<std::vector<int>> AssignRawContents(const ModelInferRequest& message,
                                                   const ModelConfig& config) {
  std::vector<int> source(static_cast<size_t>(message.inputs_size()), kInSharedMemory);
  int in_message = 0;
  for (int i = 0; i < message.inputs_size(); ++i) {
    if (!UsesSharedMemory(message.inputs(i).parameters())) source[i] = in_message++;
  }
  if (message.raw_input_contents_size() == 0) {
    for (int& s : source) {
      if (s != kInSharedMemory) s = kTypedContents;
    }
  } else if (message.raw_input_contents_size() != in_message) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request has ", message.raw_input_contents_size(), " raw_input_contents for ", in_message,
        " inputs (model '", config.name(), "'; inputs in shared memory have no raw entry)"));
  }
  return source;
}

// ------------------------------------------------------------------ datatype, shape, batch size

absl::StatusOr<DataType> CheckDatatype(const ModelInput& config_input, const InputTensor& tensor,
                                       const ModelConfig& config) {
  std::optional<DataType> expected = DataTypeFromNumber(config_input.data_type());
  absl::string_view expected_name = TypeName(expected.value_or(DataType::kInvalid));
  std::optional<DataType> got = DataTypeFromWireName(tensor.datatype());
  if (!got.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", Quote(tensor.name()), "' has unknown datatype '",
                     Quote(tensor.datatype()),
                     "', model '", config.name(), "' expects ", expected_name));
  }
  if (got != expected) {
    return absl::InvalidArgumentError(absl::StrCat("input '", tensor.name(), "' has datatype ",
                                                   tensor.datatype(), ", model '", config.name(),
                                                   "' expects ", expected_name));
  }
  return *got;
}

Shape ExpectedShape(const ModelInput& config_input, const ModelConfig& config) {
  Shape shape;
  if (config.max_batch_size() > 0) shape.push_back(kVariableDim);
  shape.insert(shape.end(), config_input.dims().begin(), config_input.dims().end());
  return shape;
}

absl::Status CheckShape(const ModelInput& config_input, const InputTensor& tensor,
                        const ModelConfig& config) {
  Shape expected = ExpectedShape(config_input, config);
  std::span<const int64_t> got = AsSpan(tensor.shape());
  bool negative = !IsConcrete(got);
  if (negative || !MatchesDims(expected, got)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", tensor.name(), "' has shape ", ShapeToString(got),
        negative ? " with a negative dimension" : "", ", model '", config.name(), "' expects ",
        ShapeToString(expected), config.max_batch_size() > 0 ? " (-1 first: the batch)" : ""));
  }
  return absl::OkStatus();
}

// Checks the leading dimension of `tensor` (its shape already matched the config) and that it
// equals the batch of the first input seen, recorded in `first` and request.batch_size.
absl::Status CheckBatchSize(const InputTensor& tensor, const ModelConfig& config,
                            const InputTensor*& first, InferenceRequest& request) {
  if (config.max_batch_size() <= 0) return absl::OkStatus();
  int64_t batch = tensor.shape(0);
  if (batch == 0 || batch > config.max_batch_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", tensor.name(), "': batch size ", batch,
        batch == 0 ? " is below the minimum 1" : " exceeds", batch == 0 ? " for" : "",
        " max_batch_size ", config.max_batch_size(), " of model '", config.name(), "'"));
  }
  if (first == nullptr) {
    first = &tensor;
    request.batch_size = batch;
  } else if (batch != request.batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", tensor.name(), "' has batch size ", batch, " but input '",
                     first->name(), "' has batch size ", request.batch_size, " (model '",
                     config.name(), "' needs one batch size for all inputs)"));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------- typed contents

std::vector<absl::string_view> PopulatedContentsFields(const InferTensorContents& contents) {
  std::vector<absl::string_view> fields;
  if (!contents.bool_contents().empty()) fields.push_back("bool_contents");
  if (!contents.int_contents().empty()) fields.push_back("int_contents");
  if (!contents.int64_contents().empty()) fields.push_back("int64_contents");
  if (!contents.uint_contents().empty()) fields.push_back("uint_contents");
  if (!contents.uint64_contents().empty()) fields.push_back("uint64_contents");
  if (!contents.fp32_contents().empty()) fields.push_back("fp32_contents");
  if (!contents.fp64_contents().empty()) fields.push_back("fp64_contents");
  if (!contents.bytes_contents().empty()) fields.push_back("bytes_contents");
  return fields;
}

// The InferTensorContents field that carries `type`; nullopt for FP16 and BF16 (no field).
std::optional<absl::string_view> ContentsFieldFor(DataType type) {
  switch (type) {
    case DataType::kBool:
      return "bool_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
      return "uint_contents";
    case DataType::kUint64:
      return "uint64_contents";
    case DataType::kFp32:
      return "fp32_contents";
    case DataType::kFp64:
      return "fp64_contents";
    case DataType::kBytes:
      return "bytes_contents";
    default:
      return std::nullopt;
  }
}

absl::Status CheckContentsField(const InferTensorContents& contents, DataType type) {
  std::optional<absl::string_view> field = ContentsFieldFor(type);
  if (!field.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("datatype ", TypeName(type),
                     " has no typed contents field; send it in raw_input_contents"));
  }
  for (absl::string_view used : PopulatedContentsFields(contents)) {
    if (used != *field) {
      return absl::InvalidArgumentError(
          absl::StrCat("datatype ", TypeName(type), " is sent in ", *field, ", got ", used));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValueCount(int count, absl::string_view field, int64_t elements) {
  if (count == elements) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " has ", count, " values, the shape needs ", elements));
}

// Packs `values` as consecutive little-endian `Out`s, refusing values that do not fit.
template <typename Out, typename In>
absl::StatusOr<std::string> PackValues(const RepeatedField<In>& values, absl::string_view field,
                                       int64_t elements, DataType type) {
  SONIC_RETURN_IF_ERROR(CheckValueCount(values.size(), field, elements));
  std::string raw(static_cast<size_t>(values.size()) * sizeof(Out), '\0');
  if constexpr (std::is_same_v<In, Out>) {
    if (!raw.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  } else {
    for (int i = 0; i < values.size(); ++i) {
      In value = values.Get(i);
      if constexpr (!std::is_same_v<In, bool>) {
        if (!std::in_range<Out>(value)) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, "[", i, "] = ", value, " does not fit ", TypeName(type)));
        }
      }
      Out packed = static_cast<Out>(value);
      std::memcpy(raw.data() + static_cast<size_t>(i) * sizeof(Out), &packed, sizeof(Out));
    }
  }
  return raw;
}

// Serializes strings in the raw BYTES layout: a 4-byte little-endian length, then the bytes.
absl::StatusOr<std::string> PackStrings(
    const google::protobuf::RepeatedPtrField<std::string>& values, int64_t elements) {
  SONIC_RETURN_IF_ERROR(CheckValueCount(values.size(), "bytes_contents", elements));
  size_t total = 0;
  for (const std::string& value : values) total += 4 + value.size();
  std::string raw;
  raw.reserve(total);
  for (const std::string& value : values) {
    if (value.size() > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError("a bytes_contents element is longer than 4 GiB");
    }
    uint32_t length = static_cast<uint32_t>(value.size());
    const char prefix[4] = {
        static_cast<char>(length & 0xff), static_cast<char>((length >> 8) & 0xff),
        static_cast<char>((length >> 16) & 0xff), static_cast<char>((length >> 24) & 0xff)};
    raw.append(prefix, 4);
    raw.append(value);
  }
  return raw;
}

// Converts typed `contents` to the raw wire layout of `type` with `elements` elements.
absl::StatusOr<std::string> ContentsToRaw(const InferTensorContents& contents, DataType type,
                                          int64_t elements) {
  SONIC_RETURN_IF_ERROR(CheckContentsField(contents, type));
  const absl::string_view field = *ContentsFieldFor(type);
  switch (type) {
    case DataType::kBool:
      return PackValues<uint8_t>(contents.bool_contents(), field, elements, type);
    case DataType::kInt8:
      return PackValues<int8_t>(contents.int_contents(), field, elements, type);
    case DataType::kInt16:
      return PackValues<int16_t>(contents.int_contents(), field, elements, type);
    case DataType::kInt32:
      return PackValues<int32_t>(contents.int_contents(), field, elements, type);
    case DataType::kInt64:
      return PackValues<int64_t>(contents.int64_contents(), field, elements, type);
    case DataType::kUint8:
      return PackValues<uint8_t>(contents.uint_contents(), field, elements, type);
    case DataType::kUint16:
      return PackValues<uint16_t>(contents.uint_contents(), field, elements, type);
    case DataType::kUint32:
      return PackValues<uint32_t>(contents.uint_contents(), field, elements, type);
    case DataType::kUint64:
      return PackValues<uint64_t>(contents.uint64_contents(), field, elements, type);
    case DataType::kFp32:
      return PackValues<float>(contents.fp32_contents(), field, elements, type);
    case DataType::kFp64:
      return PackValues<double>(contents.fp64_contents(), field, elements, type);
    case DataType::kBytes:
      return PackStrings(contents.bytes_contents(), elements);
    default:
      return absl::InternalError("no typed contents for this datatype");  // unreachable
  }
}

// ------------------------------------------------------------------------- input bytes

// Checks that `bytes` hold exactly the `elements` elements of `type` that `shape` describes.
absl::Status CheckByteSize(DataType type, std::span<const int64_t> shape, int64_t elements,
                           std::span<const std::byte> bytes) {
  if (type == DataType::kBytes) {
    return TensorView::Create(type, Shape(shape.begin(), shape.end()), bytes).status();
  }
  uint64_t expected = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(elements), ElementSize(type), &expected)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", ShapeToString(shape), " has too many elements"));
  }
  if (bytes.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeToString(shape), " of ",
                                                   TypeName(type), " needs ", expected,
                                                   " bytes, got ", bytes.size()));
  }
  return absl::OkStatus();
}

// The bytes of one input before they are checked against its shape: a view into
// raw_input_contents[source] (zero copy), or typed contents converted into request.owned_data.
absl::StatusOr<std::span<const std::byte>> SentBytes(const InputTensor& tensor, DataType type,
                                                     int source, int64_t elements,
                                                     const ModelInferRequest& message,
                                                     InferenceRequest& request) {
  if (source >= 0) {
    std::vector<absl::string_view> fields = PopulatedContentsFields(tensor.contents());
    if (!fields.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("has both raw_input_contents and typed ",
                                                     fields.front(), "; send only one"));
    }
    return AsBytes(message.raw_input_contents(source));
  }
  SONIC_ASSIGN_OR_RETURN(std::string raw, ContentsToRaw(tensor.contents(), type, elements));
  request.owned_data.push_back(std::make_unique<std::string>(std::move(raw)));
  return AsBytes(*request.owned_data.back());
}

// The bytes of an input in shared memory: a view into a host region, which the request holds;
// a device (CUDA) region is copied once into request.owned_data, since backends take host memory.
absl::StatusOr<std::span<const std::byte>> SharedMemoryBytes(const InputTensor& tensor,
                                                             const ClientRegions& regions,
                                                             InferenceRequest& request) {
  std::vector<absl::string_view> fields = PopulatedContentsFields(tensor.contents());
  if (!fields.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("is in shared memory and has typed ", fields.front(), "; send only one"));
  }
  SONIC_ASSIGN_OR_RETURN(ResolvedSharedMemory resolved,
                         ResolveSharedMemory(tensor.parameters(), regions));
  const SharedMemoryReference& reference = resolved.reference;
  if (resolved.region->in_host_memory()) {
    SONIC_ASSIGN_OR_RETURN(std::span<std::byte> bytes,
                           resolved.region->Bytes(reference.offset, reference.byte_size));
    request.held_resources.push_back(std::move(resolved.region));
    return std::span<const std::byte>(bytes);
  }
  auto copy = std::make_unique<std::string>(static_cast<size_t>(reference.byte_size), '\0');
  SONIC_RETURN_IF_ERROR(resolved.region->Read(
      reference.offset, std::as_writable_bytes(std::span<char>(copy->data(), copy->size()))));
  request.owned_data.push_back(std::move(copy));
  return AsBytes(*request.owned_data.back());
}

// The bytes of one input, checked against its shape (already matched to the config).
absl::StatusOr<std::span<const std::byte>> InputBytes(const InputTensor& tensor, DataType type,
                                                      int source, const ModelInferRequest& message,
                                                      const ModelConfig& config,
                                                      const ClientRegions* regions,
                                                      InferenceRequest& request) {
  if (source == kInSharedMemory && regions == nullptr) {
    return SharedMemoryNotSupported("input", tensor.name(), config);
  }
  const std::string context = InputContext(tensor.name(), config);
  absl::StatusOr<int64_t> elements = ElementCount(AsSpan(tensor.shape()));
  if (!elements.ok()) return Annotate(elements.status(), context);
  absl::StatusOr<std::span<const std::byte>> bytes =
      source == kInSharedMemory ? SharedMemoryBytes(tensor, *regions, request)
                                : SentBytes(tensor, type, source, *elements, message, request);
  if (!bytes.ok()) return Annotate(bytes.status(), context);
  SONIC_RETURN_IF_ERROR(
      Annotate(CheckByteSize(type, AsSpan(tensor.shape()), *elements, *bytes), context));
  return *bytes;
}

absl::Status ParseInputs(const ModelInferRequest& message, const ModelConfig& config,
                         const ClientRegions* regions, InferenceRequest& request) {
  SONIC_ASSIGN_OR_RETURN(std::vector<int> sent, MatchInputs(message, config));
  SONIC_ASSIGN_OR_RETURN(std::vector<int> source, AssignRawContents(message, config));
  request.inputs.reserve(static_cast<size_t>(message.inputs_size()));
  const InputTensor* first_batched = nullptr;
  for (int c = 0; c < config.input_size(); ++c) {
    if (sent[c] == kNotSent) continue;
    const ModelInput& config_input = config.input(c);
    const InputTensor& tensor = message.inputs(sent[c]);
    SONIC_ASSIGN_OR_RETURN(DataType type, CheckDatatype(config_input, tensor, config));
    SONIC_RETURN_IF_ERROR(CheckShape(config_input, tensor, config));
    SONIC_RETURN_IF_ERROR(CheckBatchSize(tensor, config, first_batched, request));
    SONIC_ASSIGN_OR_RETURN(
        std::span<const std::byte> bytes,
        InputBytes(tensor, type, source[sent[c]], message, config, regions, request));
    request.inputs.push_back(RequestInput{
        tensor.name(), type, Shape(tensor.shape().begin(), tensor.shape().end()), bytes});
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------- outputs

int FindOutput(const ModelConfig& config, absl::string_view name) {
  for (int i = 0; i < config.output_size(); ++i) {
    if (config.output(i).name() == name) return i;
  }
  return -1;
}

// Checks the parameters of a requested output; one in shared memory is appended to
// `shm_outputs` (refused when there is no registry).
absl::Status CheckOutputParameters(const OutputTensorRequest& output, const ModelConfig& config,
                                   size_t index, const ClientRegions* regions,
                                   std::vector<SharedMemoryOutput>* shm_outputs,
                                   RequestedOutput& requested) {
  if (auto it = output.parameters().find("classification"); it != output.parameters().end()) {
    SONIC_ASSIGN_OR_RETURN(requested.classification,
                           NonNegativeParameter("classification", it->second, true, config));
    if (requested.classification == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter 'classification' of output '", output.name(), "' of model '", config.name(),
          "' must be >= 1"));
    }
  }
  if (!UsesSharedMemory(output.parameters())) return absl::OkStatus();
  if (regions == nullptr) return SharedMemoryNotSupported("output", output.name(), config);
  auto resolved = ResolveSharedMemory(output.parameters(), *regions);
  if (!resolved.ok()) {
    return Annotate(resolved.status(),
                    absl::StrCat("output '", output.name(), "' of model '", config.name(), "'"));
  }
  shm_outputs->push_back(SharedMemoryOutput{index, std::move(resolved->region),
                                            resolved->reference.offset,
                                            resolved->reference.byte_size});
  return absl::OkStatus();
}

absl::Status ParseOutputs(const ModelInferRequest& message, const ModelConfig& config,
                          const ClientRegions* regions, InferenceRequest& request,
                          std::vector<SharedMemoryOutput>* shm_outputs) {
  if (message.outputs().empty()) {
    for (const auto& output : config.output()) request.outputs.push_back({output.name()});
    return absl::OkStatus();
  }
  std::vector<bool> seen(static_cast<size_t>(config.output_size()), false);
  for (const OutputTensorRequest& output : message.outputs()) {
    int slot = FindOutput(config, output.name());
    if (slot < 0) {
      std::vector<absl::string_view> names;
      for (const auto& known : config.output()) names.push_back(known.name());
      return absl::InvalidArgumentError(
          absl::StrCat("unknown output '", Quote(output.name()), "' for model '", config.name(),
                       "', which has outputs [", absl::StrJoin(names, ", "), "]"));
    }
    if (seen[slot]) {
      return absl::InvalidArgumentError(absl::StrCat("output '", output.name(), "' of model '",
                                                     config.name(),
                                                     "' is requested more than once"));
    }
    seen[slot] = true;
    RequestedOutput requested{output.name()};
    SONIC_RETURN_IF_ERROR(CheckOutputParameters(output, config, request.outputs.size(), regions,
                                                shm_outputs, requested));
    request.outputs.push_back(std::move(requested));
  }
  return absl::OkStatus();
}

absl::Status Parse(const ModelInferRequest& message, const ModelConfig& config,
                   const ClientRegions* regions, InferenceRequest& request,
                   std::vector<SharedMemoryOutput>* shm_outputs) {
  request.id = message.id();
  request.batch_size = 1;
  request.priority = 0;
  request.timeout_us = 0;
  request.inputs.clear();
  request.outputs.clear();
  request.owned_data.clear();
  request.held_resources.clear();
  SONIC_RETURN_IF_ERROR(ParseRequestParameters(message.parameters(), config, request));
  SONIC_RETURN_IF_ERROR(ParseInputs(message, config, regions, request));
  return ParseOutputs(message, config, regions, request, shm_outputs);
}

}  // namespace

absl::Status ParseInferRequest(const ModelInferRequest& message, const ModelConfig& config,
                               InferenceRequest& request) {
  return Parse(message, config, nullptr, request, nullptr);
}

absl::Status ParseInferRequest(const ModelInferRequest& message, const ModelConfig& config,
                               const ClientRegions& regions, InferenceRequest& request,
                               std::vector<SharedMemoryOutput>& shm_outputs) {
  return Parse(message, config, &regions, request, &shm_outputs);
}

absl::Status WriteSharedMemoryOutputs(const std::vector<SharedMemoryOutput>& shm_outputs,
                                      InferenceResponse& response) {
  for (const SharedMemoryOutput& slot : shm_outputs) {
    if (slot.output_index >= response.outputs.size()) {
      return absl::InternalError("shared-memory output index out of the response");
    }
    OutputTensor& output = response.outputs[slot.output_index];
    if (output.data.size() > slot.byte_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", output.name, "' of model '", response.model_name, "' has ",
                       output.data.size(), " bytes, more than its shared_memory_byte_size of ",
                       slot.byte_size, " in region '", slot.region->name(), "'"));
    }
    SONIC_RETURN_IF_ERROR(
        slot.region->Write(slot.offset, std::as_bytes(std::span<const char>(output.data))));
    output.data.clear();
    output.data.shrink_to_fit();
  }
  return absl::OkStatus();
}

}  // namespace sonic::server
