// A system shared-memory region: one mmap()ed window [offset, offset + byte_size) of a POSIX
// shm object that a client created and registered with SystemSharedMemoryRegister. Inputs are
// read from it in place (zero copy). Thread-safe (see SharedMemoryRegion).
//
// The client owns the object and may shrink it (ftruncate) after registering; touching a mapped
// page past the object's end raises SIGBUS, which would kill the server. So the region keeps the
// object open and every use (Bytes, Read, Write) first checks, with fstat, that the object still
// covers the bytes used; a shrunk object is INVALID_ARGUMENT naming the region. A shrink racing
// with a use (between the check and the access, or while a backend reads the input in place)
// faults into the mapping guard (mapping_fault_guard.h): the access completes on a zero page,
// and the region, whose bytes are no longer all the client's, refuses every later use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

class SystemSharedMemoryRegion final : public SharedMemoryRegion {
 public:
  // The users one of whom must own the object (its st_uid): a server running as root opens
  // anyone's object, so the owner is checked before anything is mapped.
  struct Owners {
    std::vector<uint32_t> uids;
    std::string flag;  // where they come from, for the error ("--shared-memory-owner-uid")
  };

  // shm_open(key, O_RDWR), checks that the object is a regular file owned by one of `owners`
  // and that offset + byte_size lies within it (fstat), and maps that window read-write; the
  // object stays open (one file descriptor) for the checks at use. INVALID_ARGUMENT: byte_size 0,
  // key not found or not openable (with the errno text), not a regular file, window out of the
  // object's bounds, mmap failure. PERMISSION_DENIED naming `owners.flag` for another owner.
  static absl::StatusOr<std::shared_ptr<SystemSharedMemoryRegion>> Create(const std::string& name,
                                                                          const std::string& key,
                                                                          uint64_t offset,
                                                                          uint64_t byte_size,
                                                                          const Owners& owners);
  ~SystemSharedMemoryRegion() override;

  const std::string& key() const { return key_; }
  uint64_t offset() const { return offset_; }

  SharedMemoryRegionStatus Status() const override;
  absl::StatusOr<std::span<std::byte>> Bytes(uint64_t offset, uint64_t size) const override;
  absl::Status Read(uint64_t offset, std::span<std::byte> destination) const override;
  absl::Status Write(uint64_t offset, std::span<const std::byte> source) const override;

 private:
  SystemSharedMemoryRegion(std::string name, std::string key, uint64_t offset, uint64_t byte_size,
                           int fd, void* mapping, size_t mapping_size, std::byte* base,
                           size_t guard_slot)
      : SharedMemoryRegion(std::move(name), SharedMemoryKind::kSystem, byte_size),
        key_(std::move(key)),
        offset_(offset),
        fd_(fd),
        mapping_(mapping),
        mapping_size_(mapping_size),
        base_(base),
        guard_slot_(guard_slot) {}

  // OK when the object still holds the region's bytes [offset, offset + size); INVALID_ARGUMENT
  // naming the region and both sizes when it was shrunk below them.
  absl::Status CheckObjectCovers(uint64_t offset, uint64_t size) const;

  const std::string key_;
  const uint64_t offset_;
  const int fd_;               // the shm object, for fstat
  void* const mapping_;        // what mmap() returned (page aligned)
  const size_t mapping_size_;  // what to munmap()
  std::byte* const base_;      // first byte of the region: mapping_ + offset % page size
  const size_t guard_slot_;    // the mapping's GuardMapping slot
};

}  // namespace sonic::server
