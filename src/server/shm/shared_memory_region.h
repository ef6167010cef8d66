// A registered shared-memory region as the request path sees it, whatever memory it lives in:
// a window of a POSIX shm object in host memory (SystemSharedMemoryRegion) or CUDA device
// memory of another process opened through an IPC handle (server/cuda/cuda_ipc_region.h).
// System and CUDA regions share one namespace of names (docs/PROTOCOL.md).
//
// Immutable after creation, so thread-safe; the bytes themselves are shared with the client and
// unsynchronized (the protocol leaves ordering to the client, which does not touch a region
// while a request using it is in flight).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::server {

enum class SharedMemoryKind { kSystem, kCuda };

// What the *SharedMemoryStatus RPCs report about a region.
struct SharedMemoryRegionStatus {
  std::string name;
  SharedMemoryKind kind = SharedMemoryKind::kSystem;
  std::string key;         // kSystem: the shm object's key
  uint64_t offset = 0;     // kSystem: where the window starts in the object
  int64_t device_id = -1;  // kCuda: the GPU holding the memory
  uint64_t byte_size = 0;
};

class SharedMemoryRegion {
 public:
  virtual ~SharedMemoryRegion() = default;
  SharedMemoryRegion(const SharedMemoryRegion&) = delete;
  SharedMemoryRegion& operator=(const SharedMemoryRegion&) = delete;

  const std::string& name() const { return name_; }
  SharedMemoryKind kind() const { return kind_; }
  uint64_t byte_size() const { return byte_size_; }
  // Whether Bytes() can give the server a view of the region (true for system regions).
  bool in_host_memory() const { return kind_ == SharedMemoryKind::kSystem; }

  virtual SharedMemoryRegionStatus Status() const = 0;

  // The bytes [offset, offset + size) of the region (offsets relative to the region), read and
  // written in place. INVALID_ARGUMENT naming the region when they are not within it;
  // FAILED_PRECONDITION for a region in device memory, which only Read and Write reach.
  virtual absl::StatusOr<std::span<std::byte>> Bytes(uint64_t offset, uint64_t size) const = 0;

  // Copies [offset, offset + destination.size()) of the region into host memory, or `source`
  // into the region at `offset`. Blocks until the copy is done. INVALID_ARGUMENT naming the
  // region when the window is not within it; INTERNAL when a device copy fails.
  virtual absl::Status Read(uint64_t offset, std::span<std::byte> destination) const = 0;
  virtual absl::Status Write(uint64_t offset, std::span<const std::byte> source) const = 0;

  // OK when [offset, offset + size) lies within the region, else INVALID_ARGUMENT naming it.
  absl::Status CheckWindow(uint64_t offset, uint64_t size) const;

 protected:
  SharedMemoryRegion(std::string name, SharedMemoryKind kind, uint64_t byte_size)
      : name_(std::move(name)), kind_(kind), byte_size_(byte_size) {}

 private:
  const std::string name_;
  const SharedMemoryKind kind_;
  const uint64_t byte_size_;
};

}  // namespace sonic::server
