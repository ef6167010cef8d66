// Tensors of an inference request that live in a client's registered shared-memory region
// instead of the message (docs/PROTOCOL.md): the `shared_memory_region`, `shared_memory_byte_size`
// and `shared_memory_offset` parameters of an input or output, resolved against the regions the
// client registered, and the outputs written back to their regions once the response is ready.
// Thread-safe: free functions of their arguments.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "inference/grpc_service.pb.h"
#include "server/core/inference_request.h"
#include "server/shm/shared_memory_manager.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

using TensorParameters = google::protobuf::Map<std::string, inference::InferParameter>;

// Whether a tensor with `parameters` names shared memory (any of the three parameters).
bool UsesSharedMemory(const TensorParameters& parameters);

// UNIMPLEMENTED for a `kind` ("input", "output") `name` of `model` in shared memory where no
// region registry is given.
absl::Status SharedMemoryNotSupported(absl::string_view kind, absl::string_view name,
                                      absl::string_view model);

// The region a tensor names and its window [offset, offset + byte_size), checked to lie within
// it. INVALID_ARGUMENT: an unknown region, offset or size without a region, a region without a
// size, parameters of the wrong type, a window outside its region.
struct SharedMemoryWindow {
  std::shared_ptr<const SharedMemoryRegion> region;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};
absl::StatusOr<SharedMemoryWindow> ResolveSharedMemory(const TensorParameters& parameters,
                                                       const ClientRegions& regions);

// The bytes of input `tensor` in shared memory: a view into a host region, which `request` then
// holds (held_resources), so that an unregister does not unmap it first; a device (CUDA) region
// is copied once into request.owned_data, since backends take host memory. Errors as
// ResolveSharedMemory's; INVALID_ARGUMENT when the tensor also has typed contents; a failed
// device copy's.
absl::StatusOr<std::span<const std::byte>> SharedMemoryInputBytes(
    const inference::ModelInferRequest::InferInputTensor& tensor, const ClientRegions& regions,
    InferenceRequest& request);

// Where one output of a request goes instead of raw_output_contents: `byte_size` bytes at
// `offset` of `region` (already checked to lie within it).
struct SharedMemoryOutput {
  size_t output_index = 0;  // into InferenceRequest::outputs and InferenceResponse::outputs
  std::shared_ptr<const SharedMemoryRegion> region;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

// Copies each shared-memory output of `response` into its slot (host to device for a CUDA
// region) and empties its data (the response then carries an empty raw_output_contents entry
// for it). INVALID_ARGUMENT naming the output when its data is larger than its slot, INTERNAL
// when a device copy fails; `response` is then to be discarded.
absl::Status WriteSharedMemoryOutputs(const std::vector<SharedMemoryOutput>& shm_outputs,
                                      InferenceResponse& response);

}  // namespace sonic::server
