#include "shared_memory_requests.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "cuda_shm_resource.h"
#include "memory_resource.h"
#include "region_registrars.h"
#include "sonic/common/data_type.h"
#include "sonic/common/status.h"

namespace sonic::tools {
namespace {

using transport::MemoryResource;

// An empty region of the kind `options` ask for, registered through `connection`.
absl::StatusOr<std::unique_ptr<MemoryResource>> NewRegion(InferenceConnection& connection,
                                                          const PerfOptions& options) {
  transport::StubSource stub = [&connection] { return &connection.stub(); };
  transport::ContextSource new_context = [&connection] { return connection.NewContext(); };
  if (options.shared_memory == SharedMemoryKind::kCuda) {
    return transport::CreateCudaShmResource(options.cuda_device,
                                            transport::CudaShmRpcs(stub, new_context));
  }
  return std::make_unique<transport::SystemShmResource>(
      transport::SystemShmRpcs(stub, new_context));
}

void Refer(google::protobuf::Map<std::string, inference::InferParameter>& parameters,
           const std::string& region, size_t offset, size_t byte_size) {
  parameters["shared_memory_region"].set_string_param(region);
  parameters["shared_memory_offset"].set_int64_param(static_cast<int64_t>(offset));
  parameters["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(byte_size));
}

// The bytes an output takes: from a fully known shape of a fixed-size type, else `fallback`.
size_t OutputByteSize(const TensorMetadata& output, const ModelInterface& model, int64_t batch_size,
                      int64_t fallback) {
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

absl::Status PlaceInputs(MemoryResource& region,
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
  return region.Flush(0, offset);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SharedMemoryRequests>> SharedMemoryRequests::Create(
    InferenceConnection& connection, const ModelInterface& model, const PerfOptions& options,
    std::vector<inference::ModelInferRequest>& requests) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<MemoryResource> inputs, NewRegion(connection, options));
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<MemoryResource> outputs, NewRegion(connection, options));
  SONIC_RETURN_IF_ERROR(Annotate(PlaceInputs(*inputs, requests), "input shared memory"));
  std::vector<std::pair<std::string, size_t>> sizes;
  size_t total = 0;
  for (const TensorMetadata& output : model.metadata.outputs()) {
    sizes.emplace_back(output.name(), OutputByteSize(output, model, options.batch_size,
                                                     options.output_shared_memory_size));
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

SharedMemoryRequests::SharedMemoryRequests(std::unique_ptr<MemoryResource> inputs,
                                           std::unique_ptr<MemoryResource> outputs)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

SharedMemoryRequests::~SharedMemoryRequests() = default;

}  // namespace sonic::tools
