// The CUDA build of cuda_devices.h.
#include "server/cuda/cuda_devices.h"

#include <cuda_runtime_api.h>

namespace sonic::server {

bool CudaSupportBuilt() { return true; }

int CudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clears the sticky "no driver / no device" error for later calls
    return 0;
  }
  return count;
}

}  // namespace sonic::server
