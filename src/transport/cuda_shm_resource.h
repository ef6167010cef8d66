// CUDA shared memory for a TritonClient (and `sonic perf --shared-memory cuda`): one region of
// device memory per client, allocated with cudaMalloc on a chosen device and handed to the server
// as a cudaIpcMemHandle_t (CudaSharedMemoryRegister), which it opens with cudaIpcOpenMemHandle.
// Tensors are written to and read from a host staging buffer of the region's size, owned by the
// resource; Flush() copies host to device, Fetch() device to host. Output views of a client
// therefore point into the staging buffer, which lives as long as the resource.
//
// The server must run on this machine and see the device under the same id (the same
// CUDA_VISIBLE_DEVICES): device_id in the registration is the client's id.
//
// Built against the CUDA runtime when the project is configured with CUDA (SONIC_WITH_CUDA);
// otherwise CreateCudaShmResource() fails with UNIMPLEMENTED. Same header either way.
// Thread-safety: free functions are thread-safe; the resource is thread-compatible (see
// memory_resource.h). Its CUDA calls make its device current on the calling thread and restore
// the previous device, so it may be used from any thread, one at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "memory_resource.h"

namespace sonic::transport {

// The size of a serialized cudaIpcMemHandle_t (raw_handle of CudaSharedMemoryRegister).
inline constexpr size_t kCudaIpcHandleBytes = 64;

// Registration of CUDA regions with the server (CudaSharedMemoryRegister/Unregister).
struct CudaShmRegistrar {
  std::function<absl::Status(const std::string& name, const std::string& raw_handle, int device_id,
                             size_t byte_size)>
      register_region;
  std::function<absl::Status(const std::string& name)> unregister_region;
};

// Whether the transport library was built with CUDA shared memory.
bool CudaShmBuilt();

// A CUDA shared-memory resource on `device_id`; it allocates nothing before the first Reserve().
// Checks the device first, so that a bad choice fails here rather than at the first event:
// UNIMPLEMENTED when built without CUDA, INVALID_ARGUMENT for a negative id, FAILED_PRECONDITION
// naming the device when this process does not see it (no driver, no device, or fewer devices;
// with CUDA's error text where CUDA gave one). None is retryable.
//
// The resource's Reserve() allocates device memory and a staging buffer, and registers the region
// (errors: CUDA's, as RESOURCE_EXHAUSTED for memory and INTERNAL otherwise, or the server's);
// Release() unregisters it; the destructor unregisters (best effort) and frees both.
absl::StatusOr<std::unique_ptr<MemoryResource>> CreateCudaShmResource(int device_id,
                                                                      CudaShmRegistrar registrar);

}  // namespace sonic::transport
