// A system shared-memory region: one mmap()ed window [offset, offset + byte_size) of a POSIX
// shm object that a client created and registered with SystemSharedMemoryRegister. Inputs are
// read from it in place (zero copy). Thread-safe (see SharedMemoryRegion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

class SystemSharedMemoryRegion final : public SharedMemoryRegion {
 public:
  // shm_open(key, O_RDWR), checks that offset + byte_size lies within the object (fstat), and
  // maps that window read-write. INVALID_ARGUMENT: byte_size 0, key not found or not openable
  // (with the errno text), window out of the object's bounds, mmap failure.
  static absl::StatusOr<std::shared_ptr<SystemSharedMemoryRegion>> Create(const std::string& name,
                                                                          const std::string& key,
                                                                          uint64_t offset,
                                                                          uint64_t byte_size);
  ~SystemSharedMemoryRegion() override;

  const std::string& key() const { return key_; }
  uint64_t offset() const { return offset_; }

  SharedMemoryRegionStatus Status() const override;
  absl::StatusOr<std::span<std::byte>> Bytes(uint64_t offset, uint64_t size) const override;
  absl::Status Read(uint64_t offset, std::span<std::byte> destination) const override;
  absl::Status Write(uint64_t offset, std::span<const std::byte> source) const override;

 private:
  SystemSharedMemoryRegion(std::string name, std::string key, uint64_t offset, uint64_t byte_size,
                           void* mapping, size_t mapping_size, std::byte* base)
      : SharedMemoryRegion(std::move(name), SharedMemoryKind::kSystem, byte_size),
        key_(std::move(key)),
        offset_(offset),
        mapping_(mapping),
        mapping_size_(mapping_size),
        base_(base) {}

  const std::string key_;
  const uint64_t offset_;
  void* const mapping_;        // what mmap() returned (page aligned)
  const size_t mapping_size_;  // what to munmap()
  std::byte* const base_;      // first byte of the region: mapping_ + offset % page size
};

}  // namespace sonic::server
