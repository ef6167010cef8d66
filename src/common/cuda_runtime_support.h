// Helpers for the translation units built against the CUDA runtime (with SONIC_WITH_CUDA): the
// server's CUDA shared-memory regions and the client's CUDA memory resource. Header-only, so
// that sonic_common itself never needs CUDA.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace sonic::cuda {

// CUDA's name and description of `error`. Clears a non-sticky error, so that later calls on
// this thread do not report it again.
inline std::string ErrorText(cudaError_t error) {
  cudaGetLastError();
  return absl::StrCat(cudaGetErrorName(error), " (", cudaGetErrorString(error), ")");
}

// Makes `device` current on this thread for the guard's life, then restores the previous one:
// the threads that use a region (RPC, request and transport threads) are shared by every device.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    status_ = cudaSetDevice(device);
  }
  ~DeviceGuard() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

  // Of the cudaSetDevice call.
  cudaError_t status() const { return status_; }

 private:
  int previous_ = -1;
  cudaError_t status_ = cudaSuccess;
};

}  // namespace sonic::cuda
