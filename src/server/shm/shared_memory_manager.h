// The registry of the shared-memory regions that clients register (System- and
// CudaSharedMemoryRegister), through which requests read inputs from and write outputs into
// client memory without copying tensors through gRPC messages. System and CUDA regions share
// one namespace of names; the status and unregister calls see one kind at a time, as their RPCs.
//
// Lifetime: a region is reference-counted. The manager holds one reference while it is
// registered; each request that uses it holds another (SharedMemoryManager::Acquire). Unregister
// only drops the manager's reference, so a running request never loses its mapping: the region
// is unmapped when the last request using it finishes. Destroying the manager (server stop)
// drops every registration.
//
// Independent of gRPC, of the server core and of CUDA (CUDA regions are opened by the caller,
// see Register with an opener): callers translate statuses.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

// Thread-safe. Register/Unregister/Status are cheap apart from the work of opening and closing
// regions (system calls, CUDA IPC), which never happens under the registry's lock.
class SharedMemoryManager {
 public:
  using RegionOpener = absl::FunctionRef<absl::StatusOr<std::shared_ptr<SharedMemoryRegion>>()>;

  // Bounds on what clients may register, all clients together: every region is a mapping (the
  // kernel allows about 65,000 per process) and an open file.
  struct Options {
    size_t max_regions = 1024;                 // --max-shared-memory-regions
    uint64_t max_total_bytes = uint64_t{64} << 30;  // --max-shared-memory-bytes (64 GiB)
  };

  SharedMemoryManager() : SharedMemoryManager(Options{}) {}
  explicit SharedMemoryManager(const Options& options) : options_(options) {}
  SharedMemoryManager(const SharedMemoryManager&) = delete;
  SharedMemoryManager& operator=(const SharedMemoryManager&) = delete;

  // Maps and registers a system region under `name`. ALREADY_EXISTS when the name is taken (by
  // a region of either kind); INVALID_ARGUMENT as SystemSharedMemoryRegion::Create, or for an
  // empty name; RESOURCE_EXHAUSTED, naming the limit, past max_regions or max_total_bytes.
  absl::Status Register(const std::string& name, const std::string& key, uint64_t offset,
                        uint64_t byte_size);

  // Registers the region `open` returns under `name` (which must be the region's name). `open`
  // runs only when the name is free, outside the lock; its error is returned unchanged.
  // ALREADY_EXISTS when the name is taken; INVALID_ARGUMENT for an empty name;
  // RESOURCE_EXHAUSTED, naming the limit, past max_regions (then `open` does not run) or
  // max_total_bytes (the region opened is closed again).
  absl::Status Register(const std::string& name, RegionOpener open);

  // Drops the registration of the `kind` region `name`; requests already using it keep it. A
  // name with no region of that kind is already unregistered: OK, as Triton.
  absl::Status Unregister(SharedMemoryKind kind, const std::string& name);
  // Drops every registration of one kind (an Unregister RPC without a name), or of all kinds
  // (the server stop).
  void UnregisterAll(SharedMemoryKind kind);
  void UnregisterAll();

  // The registered regions of `kind` by name: all of them for an empty `name`;
  // INVALID_ARGUMENT when a named region of that kind is not registered.
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> Status(SharedMemoryKind kind,
                                                               const std::string& name) const;

  // A reference to a registered region of any kind, which keeps it open while held.
  // INVALID_ARGUMENT when no region has that name.
  absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> Acquire(const std::string& name) const;

 private:
  // OK when one more region of `byte_size` bytes stays within the bounds.
  absl::Status CheckRoom(const std::string& name, uint64_t byte_size) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  const Options options_;
  mutable absl::Mutex mutex_;
  std::map<std::string, std::shared_ptr<SharedMemoryRegion>> regions_ ABSL_GUARDED_BY(mutex_);
  uint64_t total_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace sonic::server
