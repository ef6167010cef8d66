// The CUDA build of cuda_ipc_region.h.
#include "server/cuda/cuda_ipc_region.h"

#include <cuda_runtime_api.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/cuda_runtime_support.h"
#include "server/cuda/cuda_devices.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

static_assert(sizeof(cudaIpcMemHandle_t) == kCudaIpcHandleSize);

using cuda::DeviceGuard;

class CudaIpcRegion final : public SharedMemoryRegion {
 public:
  CudaIpcRegion(std::string name, int device, uint64_t byte_size, std::byte* base)
      : SharedMemoryRegion(std::move(name), SharedMemoryKind::kCuda, byte_size),
        device_(device),
        base_(base) {}

  ~CudaIpcRegion() override {
    DeviceGuard guard(device_);
    cudaIpcCloseMemHandle(base_);
  }

  SharedMemoryRegionStatus Status() const override {
    SharedMemoryRegionStatus status;
    status.name = name();
    status.kind = kind();
    status.device_id = device_;
    status.byte_size = byte_size();
    return status;
  }

  absl::StatusOr<std::span<std::byte>> Bytes(uint64_t, uint64_t) const override {
    return absl::FailedPreconditionError(absl::StrCat(
        "CUDA shared memory region '", name(), "' is device memory: it is reached by copies"));
  }

  absl::Status Read(uint64_t offset, std::span<std::byte> destination) const override {
    SONIC_RETURN_IF_ERROR(CheckWindow(offset, destination.size()));
    return Copy(destination.data(), base_ + offset, destination.size(), cudaMemcpyDeviceToHost);
  }

  absl::Status Write(uint64_t offset, std::span<const std::byte> source) const override {
    SONIC_RETURN_IF_ERROR(CheckWindow(offset, source.size()));
    return Copy(base_ + offset, source.data(), source.size(), cudaMemcpyHostToDevice);
  }

 private:
  absl::Status Copy(void* to, const void* from, size_t size, cudaMemcpyKind direction) const {
    if (size == 0) return absl::OkStatus();
    DeviceGuard guard(device_);
    cudaError_t error = guard.status();
    if (error == cudaSuccess) error = cudaMemcpy(to, from, size, direction);
    if (error != cudaSuccess) {
      return absl::InternalError(absl::StrCat("CUDA shared memory region '", name(),
                                              "': copy failed: ", cuda::ErrorText(error)));
    }
    return absl::OkStatus();
  }

  const int device_;
  std::byte* const base_;  // what cudaIpcOpenMemHandle returned
};

absl::Status CheckArguments(const std::string& context, const std::string& raw_handle,
                            int64_t device_id, uint64_t byte_size) {
  if (raw_handle.size() != kCudaIpcHandleSize) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": raw_handle has ", raw_handle.size(),
                                                   " bytes; a serialized cudaIpcMemHandle_t has ",
                                                   kCudaIpcHandleSize));
  }
  if (byte_size == 0) return absl::InvalidArgumentError(absl::StrCat(context, ": byte_size is 0"));
  const int devices = CudaDeviceCount();
  if (device_id < 0 || device_id >= devices) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": CUDA device ", device_id,
                                                   " does not exist; this server sees ", devices,
                                                   " CUDA device(s)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> OpenCudaIpcRegion(const std::string& name,
                                                                      const std::string& raw_handle,
                                                                      int64_t device_id,
                                                                      uint64_t byte_size) {
  const std::string context = absl::StrCat("CUDA shared memory region '", name, "'");
  if (name.empty()) {
    return absl::InvalidArgumentError("a shared memory region needs a non-empty name");
  }
  SONIC_RETURN_IF_ERROR(CheckArguments(context, raw_handle, device_id, byte_size));
  const int device = static_cast<int>(device_id);
  cudaIpcMemHandle_t handle;
  std::memcpy(&handle, raw_handle.data(), sizeof(handle));
  DeviceGuard guard(device);
  cudaError_t error = guard.status();
  void* base = nullptr;
  if (error == cudaSuccess) {
    error = cudaIpcOpenMemHandle(&base, handle, cudaIpcMemLazyEnablePeerAccess);
  }
  if (error != cudaSuccess) {
    cudaGetLastError();  // not sticky: later calls must not see it
    return absl::InvalidArgumentError(absl::StrCat(
        context, ": cannot open the IPC handle on device ", device, ": ", cuda::ErrorText(error)));
  }
  return std::make_shared<CudaIpcRegion>(name, device, byte_size, static_cast<std::byte*>(base));
}

}  // namespace sonic::server
