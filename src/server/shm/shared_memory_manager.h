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
// Access (the server may run as another user than its clients, e.g. root): a system region's
// object must be owned by an allowed uid, or, for a peer of the Unix-domain socket, by the
// peer's own uid (SO_PEERCRED); its key may be held to a prefix; system regions may be refused
// to TCP clients or to everyone. A region belongs to the client that registered it
// (SharedMemoryClient): Status shows a client its own regions, Unregister (by name or all)
// removes only its own, and its requests use only its own (ClientRegions).
//
// Independent of gRPC, of the server core and of CUDA (CUDA regions are opened by the caller,
// see Register with an opener): callers translate statuses.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

// Who calls, as far as the transport can tell. Triton's protocol has no client identity, so a
// client is known by where it connects from: every connection from one host is one client (a
// tool's register, infer and unregister calls often use different connections, HTTP and gRPC
// alike, so a connection is too fine); on the Unix-domain socket the kernel names the peer's user.
struct SharedMemoryClient {
  // "loopback" for any loopback address (127.0.0.0/8, ::1, and IPv4-mapped forms), the IP
  // address of another TCP peer, "uid N" for a peer on the Unix-domain socket.
  std::string identity;
  // The peer's uid, when the kernel told it (SO_PEERCRED); then the peer must own the objects
  // it registers.
  std::optional<uint32_t> uid;

  // From a peer's IP address as text ("127.0.0.1", "::1", "::ffff:10.0.0.1", HTTP's remote
  // address); anything else is taken as it is.
  static SharedMemoryClient FromAddress(std::string_view address);
  // From gRPC's peer URI ("ipv4:127.0.0.1:50000", "ipv6:[::1]:50000", with the brackets maybe
  // percent-encoded); for other schemes the URI itself. A peer of the Unix-domain socket is
  // identified by the caller (UnixSocketPeers), not here.
  static SharedMemoryClient FromGrpcPeer(std::string_view peer);
  static SharedMemoryClient FromUid(uint32_t uid);
};

// Which clients may register system regions (--system-shared-memory).
enum class SystemSharedMemoryAccess {
  kAll,         // any client (Triton's behaviour)
  kUnixSocket,  // only peers of the Unix-domain socket, whose uid the kernel vouches for
  kNone,
};

// Thread-safe. Register/Unregister/Status are cheap apart from the work of opening and closing
// regions (system calls, CUDA IPC), which never happens under the registry's lock.
class SharedMemoryManager {
 public:
  using RegionOpener = absl::FunctionRef<absl::StatusOr<std::shared_ptr<SharedMemoryRegion>>()>;

  // Bounds on what clients may register, all clients together: every region is a mapping (the
  // kernel allows about 65,000 per process) and an open file.
  struct Options {
    size_t max_regions = 1024;                      // --max-shared-memory-regions
    uint64_t max_total_bytes = uint64_t{64} << 30;  // --max-shared-memory-bytes (64 GiB)
    // The users whose system shm objects TCP clients may register (the object's st_uid);
    // empty: the server's effective uid only. --shared-memory-owner-uid
    std::vector<uint32_t> allowed_owner_uids = {};
    // Keys must start with this (leading '/' ignored on both, as shm_open does); empty: any.
    // --shared-memory-key-prefix
    std::string key_prefix = {};
    SystemSharedMemoryAccess system_access = SystemSharedMemoryAccess::kAll;
  };

  SharedMemoryManager() : SharedMemoryManager(Options{}) {}
  explicit SharedMemoryManager(const Options& options) : options_(options) {}
  SharedMemoryManager(const SharedMemoryManager&) = delete;
  SharedMemoryManager& operator=(const SharedMemoryManager&) = delete;

  // Maps and registers a system region under `name`, owned by `client`. ALREADY_EXISTS when
  // the name is taken (by a region of either kind, of any client); INVALID_ARGUMENT as
  // SystemSharedMemoryRegion::Create, or for an empty name; PERMISSION_DENIED, naming the flag,
  // when system_access refuses the client, the key lacks key_prefix, or the object's owner is
  // not allowed (see Options; for a client with a uid, the owner must be that uid);
  // RESOURCE_EXHAUSTED, naming the limit, past max_regions or max_total_bytes.
  absl::Status Register(const SharedMemoryClient& client, const std::string& name,
                        const std::string& key, uint64_t offset, uint64_t byte_size);

  // Registers the region `open` returns under `name` (which must be the region's name). `open`
  // runs only when the name is free, outside the lock; its error is returned unchanged.
  // ALREADY_EXISTS when the name is taken; INVALID_ARGUMENT for an empty name;
  // RESOURCE_EXHAUSTED, naming the limit, past max_regions (then `open` does not run) or
  // max_total_bytes (the region opened is closed again).
  absl::Status Register(const SharedMemoryClient& client, const std::string& name,
                        RegionOpener open);

  // Drops the registration of the `kind` region `name`; requests already using it keep it. A
  // name with no region of that kind is already unregistered: OK, as Triton. PERMISSION_DENIED
  // when another client registered it.
  absl::Status Unregister(const SharedMemoryClient& client, SharedMemoryKind kind,
                          const std::string& name);
  // Drops every registration of one kind that `client` made (an Unregister RPC without a
  // name), or every registration (the server stop).
  void UnregisterAll(const SharedMemoryClient& client, SharedMemoryKind kind);
  void UnregisterAll();

  // The regions of `kind` that `client` registered, by name: all of them for an empty `name`;
  // INVALID_ARGUMENT when `client` has no region of that kind named so.
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> Status(const SharedMemoryClient& client,
                                                               SharedMemoryKind kind,
                                                               const std::string& name) const;

  // A reference to a registered region of any kind, which keeps it open while held.
  // INVALID_ARGUMENT when no region has that name.
  absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> Acquire(const std::string& name) const;
  // As above, for a region `client` registered: another client's region is INVALID_ARGUMENT as
  // an unknown one, which does not tell that it exists.
  absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> Acquire(
      const SharedMemoryClient& client, const std::string& name) const;

 private:
  // OK when one more region of `byte_size` bytes stays within the bounds.
  absl::Status CheckRoom(const std::string& name, uint64_t byte_size) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  // OK when `client` may register the system object `key` (system_access, key_prefix).
  absl::Status CheckSystemAccess(const SharedMemoryClient& client, const std::string& name,
                                 const std::string& key) const;

  struct Entry {
    std::shared_ptr<SharedMemoryRegion> region;
    std::string owner;  // SharedMemoryClient::identity of the registering client
  };

  const Options options_;
  mutable absl::Mutex mutex_;
  std::map<std::string, Entry> regions_ ABSL_GUARDED_BY(mutex_);
  uint64_t total_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
};

// The registry as one client's requests see it: the regions that client registered. Borrows the
// manager, which must outlive it; cheap to copy. Thread-safe.
class ClientRegions {
 public:
  // The client found by `identify` at each Acquire, so that a request naming no region never
  // pays for finding out who sent it. `identify` must be callable from any thread.
  ClientRegions(const SharedMemoryManager& manager, std::function<SharedMemoryClient()> identify)
      : manager_(&manager), identify_(std::move(identify)) {}
  // A client known beforehand (a stream's, identified once).
  ClientRegions(const SharedMemoryManager& manager, SharedMemoryClient client)
      : ClientRegions(manager, [client = std::move(client)] { return client; }) {}

  absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> Acquire(const std::string& name) const {
    return manager_->Acquire(identify_(), name);
  }

 private:
  const SharedMemoryManager* manager_;
  std::function<SharedMemoryClient()> identify_;
};

}  // namespace sonic::server
