// The registry of system (POSIX) shared-memory regions that clients register with
// SystemSharedMemoryRegister, and through which requests read inputs from and write outputs into
// client memory without copying tensors through gRPC messages.
//
// Lifetime: a region is reference-counted. The manager holds one reference while it is
// registered; each request that uses it holds another (SharedMemoryManager::Acquire). Unregister
// only drops the manager's reference, so a running request never loses its mapping: the region
// is unmapped when the last request using it finishes. Destroying the manager (server stop)
// drops every registration.
//
// Independent of gRPC and of the server core: callers translate statuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sonic::server {

// One mmap()ed window [offset, offset + byte_size) of a POSIX shm object. Immutable after
// creation, so thread-safe; the bytes themselves are shared with the client and unsynchronized
// (the protocol leaves ordering to the client, which does not touch a region while a request
// using it is in flight).
class SharedMemoryRegion {
 public:
  // shm_open(key, O_RDWR), checks that offset + byte_size lies within the object (fstat), and
  // maps that window read-write. INVALID_ARGUMENT: byte_size 0, key not found or not openable
  // (with the errno text), window out of the object's bounds, mmap failure.
  static absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> Create(const std::string& name,
                                                                    const std::string& key,
                                                                    uint64_t offset,
                                                                    uint64_t byte_size);
  ~SharedMemoryRegion();
  SharedMemoryRegion(const SharedMemoryRegion&) = delete;
  SharedMemoryRegion& operator=(const SharedMemoryRegion&) = delete;

  const std::string& name() const { return name_; }
  const std::string& key() const { return key_; }
  uint64_t offset() const { return offset_; }
  uint64_t byte_size() const { return byte_size_; }

  // The bytes [offset, offset + size) of the region (offsets relative to the region, not to
  // the shm object). INVALID_ARGUMENT naming the region when they are not within it.
  absl::StatusOr<std::span<std::byte>> Bytes(uint64_t offset, uint64_t size) const;

 private:
  SharedMemoryRegion(std::string name, std::string key, uint64_t offset, uint64_t byte_size,
                     void* mapping, size_t mapping_size, std::byte* base)
      : name_(std::move(name)),
        key_(std::move(key)),
        offset_(offset),
        byte_size_(byte_size),
        mapping_(mapping),
        mapping_size_(mapping_size),
        base_(base) {}

  const std::string name_;
  const std::string key_;
  const uint64_t offset_;
  const uint64_t byte_size_;
  void* const mapping_;        // what mmap() returned (page aligned)
  const size_t mapping_size_;  // what to munmap()
  std::byte* const base_;      // first byte of the region: mapping_ + offset % page size
};

struct SharedMemoryRegionStatus {
  std::string name;
  std::string key;
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

// Thread-safe. Register/Unregister/Status are cheap apart from the mmap/munmap system calls.
class SharedMemoryManager {
 public:
  SharedMemoryManager() = default;
  SharedMemoryManager(const SharedMemoryManager&) = delete;
  SharedMemoryManager& operator=(const SharedMemoryManager&) = delete;

  // Maps and registers a region under `name`. ALREADY_EXISTS when the name is taken;
  // INVALID_ARGUMENT as SharedMemoryRegion::Create, or for an empty name.
  absl::Status Register(const std::string& name, const std::string& key, uint64_t offset,
                        uint64_t byte_size);

  // Drops the registration of `name`; requests already using it keep their mapping.
  // INVALID_ARGUMENT when no region has that name.
  absl::Status Unregister(const std::string& name);
  // Drops every registration (the server stop, or an Unregister RPC without a name).
  void UnregisterAll();

  // The registered regions by name: all of them for an empty `name`; INVALID_ARGUMENT when a
  // named region is not registered.
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> Status(const std::string& name) const;

  // A reference to a registered region, which keeps it mapped while held. INVALID_ARGUMENT
  // when no region has that name.
  absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> Acquire(const std::string& name) const;

 private:
  mutable absl::Mutex mutex_;
  std::map<std::string, std::shared_ptr<SharedMemoryRegion>> regions_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sonic::server
