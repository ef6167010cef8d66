// Where a client (a TritonClient, `sonic perf`) puts the tensors of its requests: in the gRPC
// messages (HeapResource) or in one memory region that the server reaches too (SystemShmResource,
// POSIX shared memory mapped by both; the CUDA resource of cuda_shm_resource.h, device memory
// behind a host staging buffer). Internal to the client-side libraries.
//
// Thread-safety: thread-compatible; a client uses its resource from one dispatch at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::transport {

class MemoryResource {
 public:
  virtual ~MemoryResource() = default;

  // Whether tensors can be placed in a region at all (false for the heap).
  virtual bool shared() const = 0;
  // The name of the region registered with the server; "" when tensors travel in the messages.
  virtual const std::string& region() const = 0;
  // Makes region() at least `bytes` long and registered, growing it when needed (a new region:
  // views of the old one become invalid). Errors (the region cannot be created or registered)
  // mean the tensors must travel in the messages; retrying may work.
  virtual absl::Status Reserve(size_t bytes) = 0;
  // Host memory laid out as the region (empty for the heap): the region itself when it is
  // mapped, a staging copy of it otherwise. Tensors are written and read here.
  virtual std::span<std::byte> data() = 0;
  // Makes the bytes written to data() at [offset, offset + size) visible to the server; before
  // the requests that read them are sent. Blocks until they are. Errors (a failed device copy)
  // leave the region's content undefined there; retrying is unlikely to help.
  virtual absl::Status Flush(size_t /*offset*/, size_t /*size*/) { return absl::OkStatus(); }
  // Makes what the server wrote to the region at [offset, offset + size) readable in data();
  // after the responses of the requests that wrote it. Blocks; errors as Flush().
  virtual absl::Status Fetch(size_t /*offset*/, size_t /*size*/) { return absl::OkStatus(); }
  // Unregisters the region from the server (a request failed, or the server changes); the local
  // mapping stays valid until the next Reserve() or destruction. The next Reserve() registers a
  // new region.
  virtual void Release() = 0;
};

// Tensors in the gRPC messages: region() is always "", Reserve() always fails.
class HeapResource : public MemoryResource {
 public:
  bool shared() const override { return false; }
  const std::string& region() const override { return region_; }
  absl::Status Reserve(size_t bytes) override;
  std::span<std::byte> data() override { return {}; }
  void Release() override {}

 private:
  std::string region_;
};

// Registration of system regions with the server (SystemSharedMemoryRegister/Unregister).
struct ShmRegistrar {
  std::function<absl::Status(const std::string& name, const std::string& key, size_t byte_size)>
      register_region;
  std::function<absl::Status(const std::string& name)> unregister_region;
};

// One POSIX shared-memory region per client, created on the first Reserve(), named uniquely
// ("/sonic_<pid>_<counter>_<random>"), reused while large enough. The shm object is unlinked
// as soon as the server has mapped it, so that no /dev/shm entry outlives the client, even when
// the process dies; the destructor unregisters the region (best effort) and unmaps it.
class SystemShmResource : public MemoryResource {
 public:
  explicit SystemShmResource(ShmRegistrar registrar) : registrar_(std::move(registrar)) {}
  ~SystemShmResource() override;
  SystemShmResource(const SystemShmResource&) = delete;
  SystemShmResource& operator=(const SystemShmResource&) = delete;

  bool shared() const override { return true; }
  const std::string& region() const override { return name_; }
  absl::Status Reserve(size_t bytes) override;
  std::span<std::byte> data() override { return {mapping_, size_}; }
  void Release() override;

 private:
  void Unmap();

  ShmRegistrar registrar_;
  std::string name_;  // "" while no region is registered
  std::byte* mapping_ = nullptr;
  size_t size_ = 0;
};

// A region name no other client (in this or another process) uses: "sonic_<pid>_<n>_<random>".
// Thread-safe.
std::string UniqueRegionName();

// The size a region of at least `bytes` gets: rounded up to a step, so that slowly growing events
// do not register a new region every time.
size_t RoundedRegionSize(size_t bytes);

// Whether `address` ("host:port", "ipv4:", "ipv6:" or "unix:" target) is on this machine, where
// system shared memory can reach the server.
bool IsLocalAddress(std::string_view address);

}  // namespace sonic::transport
