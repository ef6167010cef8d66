// The CUDA build of cuda_shm_resource.h.
#include "cuda_shm_resource.h"

#include <cuda_runtime_api.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cuda_runtime_support.h"
#include "sonic/common/status.h"

namespace sonic::transport {
namespace {

static_assert(sizeof(cudaIpcMemHandle_t) == kCudaIpcHandleBytes);

absl::Status CudaError(cudaError_t error, int device, const std::string& what) {
  const std::string message = absl::StrCat("CUDA shared memory on device ", device, ": ", what,
                                           ": ", cuda::ErrorText(error));
  return error == cudaErrorMemoryAllocation ? absl::ResourceExhaustedError(message)
                                            : absl::InternalError(message);
}

using cuda::DeviceGuard;

absl::Status CheckDevice(int device) {
  if (device < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA device ", device, ": a device id is 0 or more"));
  }
  int count = 0;
  if (cudaError_t error = cudaGetDeviceCount(&count); error != cudaSuccess) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CUDA device ", device, " is not available: this process sees no CUDA device (",
        cuda::ErrorText(error), ")"));
  }
  if (device >= count) {
    return absl::FailedPreconditionError(
        absl::StrCat("CUDA device ", device, " is not available: this process sees ", count,
                     " CUDA device(s) (CUDA_VISIBLE_DEVICES applies)"));
  }
  return absl::OkStatus();
}

class CudaShmResource final : public MemoryResource {
 public:
  CudaShmResource(int device, CudaShmRegistrar registrar)
      : device_(device), registrar_(std::move(registrar)) {}
  ~CudaShmResource() override {
    Release();
    Free();
  }
  CudaShmResource(const CudaShmResource&) = delete;
  CudaShmResource& operator=(const CudaShmResource&) = delete;

  bool shared() const override { return true; }
  const std::string& region() const override { return name_; }
  std::span<std::byte> data() override { return {staging_.get(), staging_ ? size_ : 0}; }

  absl::Status Reserve(size_t bytes) override {
    if (!name_.empty() && bytes <= size_) return absl::OkStatus();
    Release();
    Free();
    SONIC_RETURN_IF_ERROR(Allocate(RoundedRegionSize(bytes)));
    absl::StatusOr<std::string> handle = IpcHandle();
    const std::string name = UniqueRegionName();
    absl::Status registered =
        handle.ok() ? registrar_.register_region(name, *handle, device_, size_) : handle.status();
    if (!registered.ok()) {
      Free();
      return registered;
    }
    name_ = name;
    return absl::OkStatus();
  }

  void Release() override {
    if (name_.empty()) return;
    // Best effort: a server that is gone has closed the handle with its process.
    (void)registrar_.unregister_region(name_);
    name_.clear();
  }

  absl::Status Flush(size_t offset, size_t size) override {
    return Copy(offset, size, cudaMemcpyHostToDevice, "copying inputs to the device");
  }

  absl::Status Fetch(size_t offset, size_t size) override {
    return Copy(offset, size, cudaMemcpyDeviceToHost, "copying outputs from the device");
  }

 private:
  // Device memory, the stream of the copies and the staging buffer, all of `size` bytes.
  absl::Status Allocate(size_t size) {
    DeviceGuard guard(device_);
    cudaError_t error = guard.status();
    if (error == cudaSuccess) error = cudaMalloc(&device_memory_, size);
    if (error == cudaSuccess) error = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking);
    if (error != cudaSuccess) {
      Free();
      return CudaError(error, device_, absl::StrCat("allocating ", size, " bytes"));
    }
    staging_ = std::make_unique<std::byte[]>(size);
    size_ = size;
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> IpcHandle() {
    DeviceGuard guard(device_);
    cudaIpcMemHandle_t handle;
    cudaError_t error = guard.status();
    if (error == cudaSuccess) error = cudaIpcGetMemHandle(&handle, device_memory_);
    if (error != cudaSuccess) return CudaError(error, device_, "cudaIpcGetMemHandle");
    std::string raw(kCudaIpcHandleBytes, '\0');
    std::memcpy(raw.data(), &handle, sizeof(handle));
    return raw;
  }

  // Copies [offset, offset + size) between staging buffer and device memory, asynchronously on
  // the resource's stream and waited for: a plain cudaMemcpy from pageable memory may return
  // before the data reached the device, and the server reads it from another process as soon as
  // the request arrives.
  absl::Status Copy(size_t offset, size_t size, cudaMemcpyKind direction, const char* what) {
    if (size == 0) return absl::OkStatus();
    if (offset > size_ || size > size_ - offset) {
      return absl::OutOfRangeError(absl::StrCat("CUDA shared memory on device ", device_, ": ",
                                                what, ": beyond the region's ", size_, " bytes"));
    }
    std::byte* host = staging_.get() + offset;
    std::byte* device = static_cast<std::byte*>(device_memory_) + offset;
    const bool to_device = direction == cudaMemcpyHostToDevice;
    DeviceGuard guard(device_);
    cudaError_t error = guard.status();
    if (error == cudaSuccess) {
      error =
          cudaMemcpyAsync(to_device ? static_cast<void*>(device) : host,
                          to_device ? static_cast<void*>(host) : device, size, direction, stream_);
    }
    if (error == cudaSuccess) error = cudaStreamSynchronize(stream_);
    if (error != cudaSuccess) return CudaError(error, device_, what);
    return absl::OkStatus();
  }

  void Free() {
    if (device_memory_ != nullptr || stream_ != nullptr) {
      DeviceGuard guard(device_);
      if (stream_ != nullptr) cudaStreamDestroy(stream_);
      if (device_memory_ != nullptr) cudaFree(device_memory_);
    }
    device_memory_ = nullptr;
    stream_ = nullptr;
    staging_.reset();
    size_ = 0;
  }

  const int device_;
  CudaShmRegistrar registrar_;
  std::string name_;  // "" while no region is registered
  void* device_memory_ = nullptr;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<std::byte[]> staging_;
  size_t size_ = 0;
};

}  // namespace

bool CudaShmBuilt() { return true; }

absl::StatusOr<std::unique_ptr<MemoryResource>> CreateCudaShmResource(int device_id,
                                                                      CudaShmRegistrar registrar) {
  SONIC_RETURN_IF_ERROR(CheckDevice(device_id));
  return std::make_unique<CudaShmResource>(device_id, std::move(registrar));
}

}  // namespace sonic::transport
