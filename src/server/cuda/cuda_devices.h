// What this server knows about CUDA devices, from the CUDA runtime when it was built with CUDA
// (CMake option SONIC_WITH_CUDA). Model loading places GPU instances with it and the CUDA
// shared-memory RPCs check device ids against it.
//
// Thread-safe functions.
#pragma once

namespace sonic::server {

// Whether this server was built with the CUDA pieces (CUDA shared memory, device discovery).
bool CudaSupportBuilt();

// The CUDA devices this process can use (cudaGetDeviceCount, so CUDA_VISIBLE_DEVICES applies).
// 0 when built without CUDA, when no NVIDIA driver is installed or when no device is visible:
// never an error, since a server without a GPU is a normal configuration.
int CudaDeviceCount();

}  // namespace sonic::server
