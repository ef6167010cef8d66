#include "shared_memory_requests.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "memory_resource.h"
#include "sonic/common/data_type.h"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

using client::internal::ShmRegistrar;
using client::internal::SystemShmResource;

ShmRegistrar Registrar(InferenceConnection& connection) {
  ShmRegistrar registrar;
  registrar.register_region = [&connection](const std::string& name, const std::string& key,
                                            size_t byte_size) {
    inference::SystemSharedMemoryRegisterRequest request;
    request.set_name(name);
    request.set_key(key);
    request.set_byte_size(byte_size);
    inference::SystemSharedMemoryRegisterResponse response;
    auto context = connection.NewContext();
    return FromGrpcStatus(
        connection.stub().SystemSharedMemoryRegister(context.get(), request, &response),
        "SystemSharedMemoryRegister");
  };
  registrar.unregister_region = [&connection](const std::string& name) {
    inference::SystemSharedMemoryUnregisterRequest request;
    request.set_name(name);
    inference::SystemSharedMemoryUnregisterResponse response;
    auto context = connection.NewContext();
    return FromGrpcStatus(
        connection.stub().SystemSharedMemoryUnregister(context.get(), request, &response),
        "SystemSharedMemoryUnregister");
  };
  return registrar;
}

void Refer(google::protobuf::Map<std::string, inference::InferParameter>& parameters,
           const std::string& region, size_t offset, size_t byte_size) {
  parameters["shared_memory_region"].set_string_param(region);
  parameters["shared_memory_offset"].set_int64_param(static_cast<int64_t>(offset));
  parameters["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(byte_size));
}

// The bytes an output takes: from a fully known shape of a fixed-size type, else `fallback`.
size_t OutputByteSize(const TensorMetadata& output, const ModelInterface& model,
                      int64_t batch_size, int64_t fallback) {
  std::optional<DataType> type = DataTypeFromWireName(output.datatype());
  if (!type.has_value() || *type == DataType::kBytes) return static_cast<size_t>(fallback);
  int64_t elements = 1;
  for (int i = 0; i < output.shape_size(); ++i) {
    int64_t dim = output.shape(i);
    if (i == 0 && IsBatched(output, model)) dim = batch_size;
    if (dim < 0) return static_cast<size_t>(fallback);
    elements *= dim;
  }
  return static_cast<size_t>(elements) * ElementSize(*type);
}

absl::Status PlaceInputs(SystemShmResource& region,
                         std::vector<inference::ModelInferRequest>& requests) {
  size_t total = 0;
  for (const auto& request : requests) {
    for (const std::string& contents : request.raw_input_contents()) total += contents.size();
  }
  SONIC_RETURN_IF_ERROR(region.Reserve(total));
  size_t offset = 0;
  for (auto& request : requests) {
    for (int i = 0; i < request.inputs_size(); ++i) {
      const std::string& contents = request.raw_input_contents(i);
      std::memcpy(region.data().data() + offset, contents.data(), contents.size());
      Refer(*request.mutable_inputs(i)->mutable_parameters(), region.region(), offset,
            contents.size());
      offset += contents.size();
    }
    request.clear_raw_input_contents();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SharedMemoryRequests>> SharedMemoryRequests::Create(
    InferenceConnection& connection, const ModelInterface& model, int64_t batch_size,
    int64_t output_byte_size, std::vector<inference::ModelInferRequest>& requests) {
  auto inputs = std::make_unique<SystemShmResource>(Registrar(connection));
  auto outputs = std::make_unique<SystemShmResource>(Registrar(connection));
  SONIC_RETURN_IF_ERROR(Annotate(PlaceInputs(*inputs, requests), "input shared memory"));
  std::vector<std::pair<std::string, size_t>> sizes;
  size_t total = 0;
  for (const TensorMetadata& output : model.metadata.outputs()) {
    sizes.emplace_back(output.name(),
                       OutputByteSize(output, model, batch_size, output_byte_size));
    total += sizes.back().second;
  }
  SONIC_RETURN_IF_ERROR(Annotate(outputs->Reserve(total), "output shared memory"));
  for (auto& request : requests) {
    request.clear_outputs();
    size_t offset = 0;
    for (const auto& [name, byte_size] : sizes) {
      auto* output = request.add_outputs();
      output->set_name(name);
      Refer(*output->mutable_parameters(), outputs->region(), offset, byte_size);
      offset += byte_size;
    }
  }
  return std::unique_ptr<SharedMemoryRequests>(
      new SharedMemoryRequests(std::move(inputs), std::move(outputs)));
}

SharedMemoryRequests::SharedMemoryRequests(std::unique_ptr<SystemShmResource> inputs,
                                           std::unique_ptr<SystemShmResource> outputs)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

SharedMemoryRequests::~SharedMemoryRequests() = default;

}  // namespace sonic::tools
