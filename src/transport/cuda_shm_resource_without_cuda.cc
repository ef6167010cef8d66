// cuda_shm_resource.h for a client library built without CUDA (SONIC_WITH_CUDA=OFF, or AUTO
// without a CUDA toolkit): choosing CUDA shared memory is refused.
#include "absl/strings/str_cat.h"
#include "cuda_shm_resource.h"

namespace sonic::transport {

bool CudaShmBuilt() { return false; }

absl::StatusOr<std::unique_ptr<MemoryResource>> CreateCudaShmResource(int device_id,
                                                                      CudaShmRegistrar) {
  return absl::UnimplementedError(absl::StrCat(
      "CUDA shared memory on device ", device_id,
      ": this client library was built without CUDA (configure with SONIC_WITH_CUDA=ON and the "
      "CUDA toolkit)"));
}

}  // namespace sonic::transport
