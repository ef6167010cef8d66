#include "server/frontend/shared_memory_tensors.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/frontend/tensor_contents_codec.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

using inference::InferParameter;

struct SharedMemoryReference {
  std::string region;
  uint64_t byte_size = 0;
  uint64_t offset = 0;
};

absl::StatusOr<uint64_t> SharedMemorySize(const TensorParameters& parameters,
                                          const std::string& key) {
  const InferParameter& value = parameters.at(key);
  if (value.parameter_choice_case() == InferParameter::kUint64Param) return value.uint64_param();
  if (value.parameter_choice_case() == InferParameter::kInt64Param && value.int64_param() >= 0) {
    return static_cast<uint64_t>(value.int64_param());
  }
  return absl::InvalidArgumentError(
      absl::StrCat("parameter '", key, "' must be a non-negative int64_param or uint64_param"));
}

absl::StatusOr<SharedMemoryReference> ParseSharedMemoryReference(
    const TensorParameters& parameters) {
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

std::span<const std::byte> AsBytes(const std::string& s) {
  return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

}  // namespace

bool UsesSharedMemory(const TensorParameters& parameters) {
  // A walk over the keys: most tensors have none, and a lookup by a literal builds a string.
  for (const auto& entry : parameters) {
    const std::string& key = entry.first;
    if (key == "shared_memory_region" || key == "shared_memory_byte_size" ||
        key == "shared_memory_offset") {
      return true;
    }
  }
  return false;
}

absl::Status SharedMemoryNotSupported(absl::string_view kind, absl::string_view name,
                                      absl::string_view model) {
  return absl::UnimplementedError(absl::StrCat(kind, " '", name, "' of model '", model,
                                               "' is in shared memory: shared memory is not "
                                               "supported yet"));
}

absl::StatusOr<SharedMemoryWindow> ResolveSharedMemory(const TensorParameters& parameters,
                                                       const ClientRegions& regions) {
  SONIC_ASSIGN_OR_RETURN(SharedMemoryReference reference, ParseSharedMemoryReference(parameters));
  SONIC_ASSIGN_OR_RETURN(std::shared_ptr<const SharedMemoryRegion> region,
                         regions.Acquire(reference.region));
  SONIC_RETURN_IF_ERROR(region->CheckWindow(reference.offset, reference.byte_size));
  return SharedMemoryWindow{std::move(region), reference.offset, reference.byte_size};
}

absl::StatusOr<std::span<const std::byte>> SharedMemoryInputBytes(
    const inference::ModelInferRequest::InferInputTensor& tensor, const ClientRegions& regions,
    InferenceRequest& request) {
  std::vector<absl::string_view> fields = PopulatedContentsFields(tensor.contents());
  if (!fields.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("is in shared memory and has typed ", fields.front(), "; send only one"));
  }
  SONIC_ASSIGN_OR_RETURN(SharedMemoryWindow window,
                         ResolveSharedMemory(tensor.parameters(), regions));
  if (window.region->in_host_memory()) {
    SONIC_ASSIGN_OR_RETURN(std::span<std::byte> bytes,
                           window.region->Bytes(window.offset, window.byte_size));
    request.held_resources.push_back(std::move(window.region));
    return std::span<const std::byte>(bytes);
  }
  auto copy = std::make_unique<std::string>(static_cast<size_t>(window.byte_size), '\0');
  SONIC_RETURN_IF_ERROR(window.region->Read(
      window.offset, std::as_writable_bytes(std::span<char>(copy->data(), copy->size()))));
  request.owned_data.push_back(std::move(copy));
  return AsBytes(*request.owned_data.back());
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
