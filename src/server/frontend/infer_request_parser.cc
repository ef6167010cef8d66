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

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "server/frontend/shared_memory_tensors.h"
#include "server/frontend/tensor_contents_codec.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"
#include "sonic/common/tensor_view.h"

namespace sonic::server {
namespace {

using inference::InferParameter;
using inference::ModelInferRequest;
using SignatureInput = ModelSignature::Input;
using InputTensor = InferRequestView::Input;
using OutputTensorRequest = InferRequestView::Output;

// Slot markers: a config input the client did not send; an input whose bytes are not in
// raw_input_contents (shared memory, or typed contents when no raw contents were sent).
constexpr int kNotSent = -1;
constexpr int kInSharedMemory = -2;
constexpr int kTypedContents = -3;
// An index or slot marker per input; inline for the few inputs a model has.
using InputSlots = absl::InlinedVector<int, 8>;

std::span<const std::byte> AsBytes(const std::string& s) {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

std::string_view StdView(absl::string_view text) { return {text.data(), text.size()}; }

// Debian's Abseil has its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view, so messages use this spelling of a type's wire name.
absl::string_view TypeName(DataType type) {
  std::string_view name = WireName(type);
  return absl::string_view(name.data(), name.size());
}

// A name the client sent, shortened for an error message (sonic/common/status.h).
std::string Quote(absl::string_view text) { return Quoted({text.data(), text.size()}); }

std::string InputContext(absl::string_view input, const ModelSignature& signature) {
  return absl::StrCat("input '", input, "' of model '", signature.model_name(), "'");
}

// ------------------------------------------------------------------------- request parameters

absl::string_view ParameterTypeName(const InferParameterValue& value) {
  switch (value.kind) {
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

absl::StatusOr<uint64_t> NonNegativeParameter(absl::string_view key,
                                              const InferParameterValue& value, bool allow_uint64,
                                              const ModelSignature& signature) {
  if (value.kind == InferParameter::kUint64Param && allow_uint64) return value.uint64_param;
  if (value.kind == InferParameter::kInt64Param && value.int64_param >= 0) {
    return static_cast<uint64_t>(value.int64_param);
  }
  std::string context =
      absl::StrCat("parameter '", key, "' of a request to model '", signature.model_name(), "'");
  if (value.kind != InferParameter::kInt64Param) {
    return absl::InvalidArgumentError(absl::StrCat(context, " must be int64_param",
                                                   allow_uint64 ? " or uint64_param" : "", ", got ",
                                                   ParameterTypeName(value)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(context, " must be >= 0, got ", value.int64_param));
}

absl::Status ParseRequestParameter(absl::string_view key, const InferParameterValue& value,
                                   const ModelSignature& signature, InferenceRequest& request) {
  if (key == "priority") {
    SONIC_ASSIGN_OR_RETURN(request.priority, NonNegativeParameter(key, value, true, signature));
  } else if (key == "timeout") {
    SONIC_ASSIGN_OR_RETURN(request.timeout_us, NonNegativeParameter(key, value, false, signature));
  } else if (key == "sequence_id" || key == "sequence_start" || key == "sequence_end") {
    // No model here has the sequence batcher (the config validator refuses it), and Triton
    // ignores these parameters on models without it.
  } else if (key == kEnableEmptyFinalResponse) {
    // The stock C++ client sends it with every request. A model that is not decoupled gives
    // exactly one response per request, which is itself the final one, so there is never an
    // empty final response to send: only the type is checked.
    if (value.kind != InferParameter::kBoolParam) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", key, "' of a request to model '", signature.model_name(),
                       "' must be bool_param, got ", ParameterTypeName(value)));
    }
  } else if (absl::StartsWith(key, "triton_")) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", Quote(key), "' of a request to model '", signature.model_name(),
                     "' is not allowed: keys starting with 'triton_' are reserved"));
  }
  return absl::OkStatus();
}

// Of several bad parameters, the one with the smallest key is named: the views of a message and
// of its wire bytes hold them in different orders.
absl::Status ParseRequestParameters(std::span<const InferRequestView::Parameter> parameters,
                                    const ModelSignature& signature, InferenceRequest& request) {
  absl::Status error;
  absl::string_view error_key;
  for (const auto& [key, value] : parameters) {
    absl::Status status = ParseRequestParameter(key, value, signature, request);
    if (!status.ok() && (error.ok() || key < error_key)) {
      error = std::move(status);
      error_key = key;
    }
  }
  return error;
}

// ------------------------------------------------------------------------- matching inputs

// Index of the config input a client may send under `name`, or -1; see
// ModelSignature::FindInput for `cursor`.
int FindClientInput(const ModelSignature& signature, absl::string_view name, size_t& cursor) {
  const int index = signature.FindInput(std::string_view(name.data(), name.size()), cursor);
  return index < 0 || signature.inputs()[index].built_by_server ? -1 : index;
}

absl::Status UnknownInputError(const ModelSignature& signature, absl::string_view name) {
  if (signature.IsBatchInputTarget(std::string_view(name.data(), name.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", Quote(name), "' of model '", signature.model_name(),
                     "' is a batch_input that the server builds; clients must not send it"));
  }
  std::vector<absl::string_view> expected;
  for (const SignatureInput& known : signature.inputs()) {
    if (!known.built_by_server) expected.push_back(known.name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown input '", Quote(name), "' for model '", signature.model_name(),
                   "', which expects inputs [", absl::StrJoin(expected, ", "), "]"));
}

// For each config input, the index of the message input that carries it, or kNotSent. Stops
// at the first unknown or repeated name, so the work is bounded by the config's input count.
absl::StatusOr<InputSlots> MatchInputs(const InferRequestView& message,
                                       const ModelSignature& signature) {
  const std::span<const SignatureInput> inputs = signature.inputs();
  InputSlots sent(inputs.size(), kNotSent);
  size_t cursor = 0;
  for (size_t i = 0; i < message.inputs.size(); ++i) {
    const absl::string_view name = message.inputs[i].name;
    int slot = FindClientInput(signature, name, cursor);
    if (slot < 0) return UnknownInputError(signature, name);
    if (sent[slot] != kNotSent) {
      return absl::InvalidArgumentError(
          absl::StrCat(InputContext(name, signature), " appears more than once in the request"));
    }
    sent[slot] = static_cast<int>(i);
  }
  for (size_t c = 0; c < inputs.size(); ++c) {
    const SignatureInput& input = inputs[c];
    if (sent[c] == kNotSent && !input.optional && !input.built_by_server) {
      return absl::InvalidArgumentError(absl::StrCat("model '", signature.model_name(),
                                                     "' requires input '", input.name,
                                                     "', which the request does not have"));
    }
  }
  return sent;
}

// For each message input, its index in raw_input_contents, kInSharedMemory, or kTypedContents
// (when the request has no raw contents at all, every other input must use typed contents).
absl::StatusOr<InputSlots> AssignRawContents(const InferRequestView& message,
                                             const ModelSignature& signature) {
  InputSlots source(message.inputs.size(), kInSharedMemory);
  int in_message = 0;
  for (size_t i = 0; i < message.inputs.size(); ++i) {
    const InputTensor& input = message.inputs[i];
    if (input.tensor == nullptr || !UsesSharedMemory(input.tensor->parameters())) {
      source[i] = in_message++;
    }
  }
  const size_t raw_count = message.raw_input_contents.size();
  if (raw_count == 0) {
    for (int& s : source) {
      if (s != kInSharedMemory) s = kTypedContents;
    }
  } else if (raw_count != static_cast<size_t>(in_message)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request has ", raw_count, " raw_input_contents for ", in_message, " inputs (model '",
        signature.model_name(), "'; inputs in shared memory have no raw entry)"));
  }
  return source;
}

// ------------------------------------------------------------------ datatype, shape, batch size

absl::StatusOr<DataType> CheckDatatype(const SignatureInput& config_input,
                                       const InputTensor& tensor, const ModelSignature& signature) {
  // Wire names are exact and one per type: the config's type is one comparison away, and only an
  // error needs to know what else the name is.
  if (config_input.type != DataType::kInvalid && tensor.datatype == TypeName(config_input.type)) {
    return config_input.type;
  }
  absl::string_view expected_name = TypeName(config_input.type);
  if (!DataTypeFromWireName(StdView(tensor.datatype)).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", Quote(tensor.name), "' has unknown datatype '", Quote(tensor.datatype),
        "', model '", signature.model_name(), "' expects ", expected_name));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("input '", tensor.name, "' has datatype ", tensor.datatype, ", model '",
                   signature.model_name(), "' expects ", expected_name));
}

absl::Status CheckShape(const SignatureInput& config_input, const InputTensor& tensor,
                        const ModelSignature& signature) {
  const Shape& expected = config_input.client_shape;
  std::span<const int64_t> got = tensor.shape;
  bool negative = !IsConcrete(got);
  if (negative || !MatchesDims(expected, got)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", tensor.name, "' has shape ", ShapeToString(got),
                     negative ? " with a negative dimension" : "", ", model '",
                     signature.model_name(), "' expects ", ShapeToString(expected),
                     signature.batched() ? " (-1 first: the batch)" : ""));
  }
  return absl::OkStatus();
}

// Checks the leading dimension of `tensor` (its shape already matched the config) and that it
// equals the batch of the first input seen, recorded in `first` and request.batch_size.
absl::Status CheckBatchSize(const InputTensor& tensor, const ModelSignature& signature,
                            const InputTensor*& first, InferenceRequest& request) {
  if (!signature.batched()) return absl::OkStatus();
  int64_t batch = tensor.shape[0];
  if (batch == 0 || batch > signature.max_batch_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", tensor.name, "': batch size ", batch,
                     batch == 0 ? " is below the minimum 1" : " exceeds", batch == 0 ? " for" : "",
                     " max_batch_size ", signature.max_batch_size(), " of model '",
                     signature.model_name(), "'"));
  }
  if (first == nullptr) {
    first = &tensor;
    request.batch_size = batch;
  } else if (batch != request.batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", tensor.name, "' has batch size ", batch, " but input '",
                     first->name, "' has batch size ", request.batch_size, " (model '",
                     signature.model_name(), "' needs one batch size for all inputs)"));
  }
  return absl::OkStatus();
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
                                                     const InferRequestView& message,
                                                     InferenceRequest& request) {
  if (source >= 0) {
    if (tensor.tensor != nullptr) {
      std::vector<absl::string_view> fields = PopulatedContentsFields(tensor.tensor->contents());
      if (!fields.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("has both raw_input_contents and typed ",
                                                       fields.front(), "; send only one"));
      }
    }
    return message.raw_input_contents[static_cast<size_t>(source)];
  }
  const inference::InferTensorContents& contents =
      tensor.tensor != nullptr ? tensor.tensor->contents()
                               : inference::InferTensorContents::default_instance();
  SONIC_ASSIGN_OR_RETURN(std::string raw, ContentsToRaw(contents, type, elements));
  request.owned_data.push_back(std::make_unique<std::string>(std::move(raw)));
  return AsBytes(*request.owned_data.back());
}

// The bytes of one input, checked against its shape (already matched to the config).
absl::StatusOr<std::span<const std::byte>> InputBytes(const InputTensor& tensor, DataType type,
                                                      int source, const InferRequestView& message,
                                                      const ModelSignature& signature,
                                                      const ClientRegions* regions,
                                                      InferenceRequest& request) {
  if (source == kInSharedMemory && regions == nullptr) {
    return SharedMemoryNotSupported("input", tensor.name, signature.model_name());
  }
  // Built only for an error: this runs for every input of every request.
  auto annotated = [&](const absl::Status& status) {
    return Annotate(status, InputContext(tensor.name, signature));
  };
  absl::StatusOr<int64_t> elements = ElementCount(tensor.shape);
  if (!elements.ok()) return annotated(elements.status());
  absl::StatusOr<std::span<const std::byte>> bytes =
      // Only a message's input can be in shared memory (its parameters say so).
      source == kInSharedMemory ? SharedMemoryInputBytes(*tensor.tensor, *regions, request)
                                : SentBytes(tensor, type, source, *elements, message, request);
  if (!bytes.ok()) return annotated(bytes.status());
  absl::Status size = CheckByteSize(type, tensor.shape, *elements, *bytes);
  if (!size.ok()) return annotated(size);
  return *bytes;
}

absl::Status ParseInputs(const InferRequestView& message, const ModelSignature& signature,
                         const ClientRegions* regions, InferenceRequest& request) {
  SONIC_ASSIGN_OR_RETURN(InputSlots sent, MatchInputs(message, signature));
  SONIC_ASSIGN_OR_RETURN(InputSlots source, AssignRawContents(message, signature));
  request.inputs.reserve(message.inputs.size());
  const InputTensor* first_batched = nullptr;
  const std::span<const SignatureInput> inputs = signature.inputs();
  for (size_t c = 0; c < inputs.size(); ++c) {
    if (sent[c] == kNotSent) continue;
    const SignatureInput& config_input = inputs[c];
    const InputTensor& tensor = message.inputs[static_cast<size_t>(sent[c])];
    SONIC_ASSIGN_OR_RETURN(DataType type, CheckDatatype(config_input, tensor, signature));
    SONIC_RETURN_IF_ERROR(CheckShape(config_input, tensor, signature));
    SONIC_RETURN_IF_ERROR(CheckBatchSize(tensor, signature, first_batched, request));
    SONIC_ASSIGN_OR_RETURN(
        std::span<const std::byte> bytes,
        InputBytes(tensor, type, source[sent[c]], message, signature, regions, request));
    request.inputs.push_back(RequestInput{std::string(tensor.name), type,
                                          Shape(tensor.shape.begin(), tensor.shape.end()), bytes});
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------- outputs

// Checks the parameters of a requested output; one in shared memory is appended to
// `shm_outputs` (refused when there is no registry).
absl::Status CheckOutputParameters(const OutputTensorRequest& output,
                                   const ModelSignature& signature, size_t index,
                                   const ClientRegions* regions,
                                   std::vector<SharedMemoryOutput>* shm_outputs,
                                   RequestedOutput& requested) {
  // The usual case: nothing to look up.
  if (output.tensor == nullptr || output.tensor->parameters().empty()) return absl::OkStatus();
  const TensorParameters& parameters = output.tensor->parameters();
  if (auto it = parameters.find("classification"); it != parameters.end()) {
    SONIC_ASSIGN_OR_RETURN(
        requested.classification,
        NonNegativeParameter("classification", ValueOf(it->second), true, signature));
    if (requested.classification == 0) {
      return absl::InvalidArgumentError(absl::StrCat("parameter 'classification' of output '",
                                                     output.name, "' of model '",
                                                     signature.model_name(), "' must be >= 1"));
    }
  }
  if (!UsesSharedMemory(parameters)) return absl::OkStatus();
  if (regions == nullptr) {
    return SharedMemoryNotSupported("output", output.name, signature.model_name());
  }
  auto resolved = ResolveSharedMemory(parameters, *regions);
  if (!resolved.ok()) {
    return Annotate(resolved.status(), absl::StrCat("output '", output.name, "' of model '",
                                                    signature.model_name(), "'"));
  }
  shm_outputs->push_back(SharedMemoryOutput{index, std::move(resolved->region), resolved->offset,
                                            resolved->byte_size});
  return absl::OkStatus();
}

absl::Status ParseOutputs(const InferRequestView& message, const ModelSignature& signature,
                          const ClientRegions* regions, InferenceRequest& request,
                          std::vector<SharedMemoryOutput>* shm_outputs) {
  const std::span<const ModelSignature::Output> outputs = signature.outputs();
  if (message.outputs.empty()) {
    request.outputs.reserve(outputs.size());
    for (const auto& output : outputs) request.outputs.push_back({output.name});
    return absl::OkStatus();
  }
  request.outputs.reserve(message.outputs.size());
  absl::InlinedVector<bool, 16> seen(outputs.size(), false);
  size_t cursor = 0;
  for (const OutputTensorRequest& output : message.outputs) {
    int slot = signature.FindOutput(StdView(output.name), cursor);
    if (slot < 0) {
      std::vector<absl::string_view> names;
      for (const auto& known : outputs) names.push_back(known.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown output '", Quote(output.name), "' for model '", signature.model_name(),
          "', which has outputs [", absl::StrJoin(names, ", "), "]"));
    }
    if (seen[slot]) {
      return absl::InvalidArgumentError(absl::StrCat("output '", output.name, "' of model '",
                                                     signature.model_name(),
                                                     "' is requested more than once"));
    }
    seen[slot] = true;
    RequestedOutput requested{std::string(output.name)};
    SONIC_RETURN_IF_ERROR(CheckOutputParameters(output, signature, request.outputs.size(), regions,
                                                shm_outputs, requested));
    request.outputs.push_back(std::move(requested));
  }
  return absl::OkStatus();
}

absl::Status Parse(const InferRequestView& message, const ModelSignature& signature,
                   const ClientRegions* regions, InferenceRequest& request,
                   std::vector<SharedMemoryOutput>* shm_outputs) {
  request.id = std::string(message.id);
  request.batch_size = 1;
  request.priority = 0;
  request.timeout_us = 0;
  request.inputs.clear();
  request.outputs.clear();
  request.owned_data.clear();
  request.held_resources.clear();
  SONIC_RETURN_IF_ERROR(ParseRequestParameters(message.parameters, signature, request));
  SONIC_RETURN_IF_ERROR(ParseInputs(message, signature, regions, request));
  return ParseOutputs(message, signature, regions, request, shm_outputs);
}

}  // namespace

absl::Status ParseInferRequest(const ModelInferRequest& message, const ModelSignature& signature,
                               InferenceRequest& request) {
  InferRequestView view;
  ViewMessage(message, view);
  return Parse(view, signature, nullptr, request, nullptr);
}

absl::Status ParseInferRequest(const ModelInferRequest& message, const ModelSignature& signature,
                               const ClientRegions& regions, InferenceRequest& request,
                               std::vector<SharedMemoryOutput>& shm_outputs) {
  InferRequestView view;
  ViewMessage(message, view);
  return Parse(view, signature, &regions, request, &shm_outputs);
}

absl::Status ParseInferRequest(const InferRequestView& view, const ModelSignature& signature,
                               InferenceRequest& request) {
  return Parse(view, signature, nullptr, request, nullptr);
}

absl::Status ParseInferRequest(const InferRequestView& view, const ModelSignature& signature,
                               const ClientRegions& regions, InferenceRequest& request,
                               std::vector<SharedMemoryOutput>& shm_outputs) {
  return Parse(view, signature, &regions, request, &shm_outputs);
}

}  // namespace sonic::server
