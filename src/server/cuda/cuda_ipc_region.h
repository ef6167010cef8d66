// CUDA shared memory (CudaSharedMemoryRegister): device memory that a client process allocated
// and exported with cudaIpcGetMemHandle, opened in this process with cudaIpcOpenMemHandle on
// the device the client names. The request path reaches it by copies (SharedMemoryRegion::Read
// and Write, device to host and back), because backends take host memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

// The size of a serialized cudaIpcMemHandle_t (CUDA_IPC_HANDLE_SIZE), the wire's raw_handle.
inline constexpr size_t kCudaIpcHandleSize = 64;

// Opens `raw_handle` on device `device_id` as a region of `byte_size` bytes named `name`; the
// region closes the handle when the last reference to it goes. Blocks for the CUDA calls.
// byte_size is taken on trust as the size of the client's allocation (the runtime API cannot
// measure an IPC mapping); like a system region, it is the client's memory to get right.
// Errors, none retryable:
//   UNIMPLEMENTED when this server was built without CUDA (CudaSupportBuilt() is false);
//   INVALID_ARGUMENT for an empty name, a raw_handle that is not kCudaIpcHandleSize bytes,
//   byte_size 0, a device_id that is not one of the CudaDeviceCount() visible devices, or a
//   handle CUDA cannot open (with CUDA's error name and text).
absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> OpenCudaIpcRegion(
    const std::string& name, const std::string& raw_handle, int64_t device_id,
    uint64_t byte_size);

}  // namespace sonic::server
