// cuda_devices.h and cuda_ipc_region.h for a server built without CUDA (SONIC_WITH_CUDA=OFF, or
// AUTO without a CUDA toolkit): no devices, and CUDA shared memory answers UNIMPLEMENTED.
#include "server/cuda/cuda_devices.h"
#include "server/cuda/cuda_ipc_region.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sonic::server {

bool CudaSupportBuilt() { return false; }

int CudaDeviceCount() { return 0; }

absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> OpenCudaIpcRegion(const std::string& name,
                                                                      const std::string&, int64_t,
                                                                      uint64_t) {
  return absl::UnimplementedError(
      absl::StrCat("CUDA shared memory region '", name,
                   "': this sonic-server was built without CUDA (SONIC_WITH_CUDA)"));
}

}  // namespace sonic::server
