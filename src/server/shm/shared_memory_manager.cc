#include "server/shm/shared_memory_manager.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/shm/system_shared_memory_region.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

std::string KindName(SharedMemoryKind kind) {
  return kind == SharedMemoryKind::kCuda ? "CUDA" : "system";
}

absl::Status UnknownRegion(const std::string& name) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown shared memory region '", Quoted(name), "': it is not registered"));
}

absl::Status UnknownRegion(SharedMemoryKind kind, const std::string& name) {
  return absl::InvalidArgumentError(absl::StrCat("unknown ", KindName(kind),
                                                 " shared memory region '", Quoted(name),
                                                 "': it is not registered"));
}

absl::Status NameTaken(const std::string& name) {
  return absl::AlreadyExistsError(
      absl::StrCat("shared memory region '", Quoted(name), "' is already registered"));
}

absl::Status OwnedByAnother(SharedMemoryKind kind, const std::string& name) {
  return absl::PermissionDeniedError(
      absl::StrCat(KindName(kind), " shared memory region '", Quoted(name),
                   "' was registered by another client; only that client can unregister it"));
}

bool IsLoopback(const std::string& address) {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

// The key as shm_open sees it: leading slashes do not matter.
absl::string_view ObjectName(absl::string_view key) {
  while (absl::ConsumePrefix(&key, "/")) {
  }
  return key;
}

}  // namespace

SharedMemoryClient SharedMemoryClient::FromAddress(std::string_view address) {
  std::string text(address);
  if (IsLoopback(text)) return {"loopback", std::nullopt};
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_V4MAPPED(&v6)) {
    char v4[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &v6.s6_addr[12], v4, sizeof(v4)) != nullptr) text = v4;
  }
  return {std::move(text), std::nullopt};
}

SharedMemoryClient SharedMemoryClient::FromGrpcPeer(std::string_view peer) {
  absl::string_view rest(peer.data(), peer.size());
  if (absl::ConsumePrefix(&rest, "ipv4:")) {
    return FromAddress(std::string(rest.substr(0, rest.rfind(':'))));
  }
  if (absl::ConsumePrefix(&rest, "ipv6:")) {
    absl::string_view host = rest.substr(0, rest.rfind(':'));
    if (!absl::ConsumePrefix(&host, "[")) absl::ConsumePrefix(&host, "%5B");
    if (!absl::ConsumeSuffix(&host, "]")) absl::ConsumeSuffix(&host, "%5D");
    return FromAddress(std::string(host));
  }
  return {std::string(peer), std::nullopt};
}

SharedMemoryClient SharedMemoryClient::FromUid(uint32_t uid) {
  return {absl::StrCat("uid ", uid), uid};
}

absl::Status SharedMemoryManager::CheckSystemAccess(const SharedMemoryClient& client,
                                                    const std::string& name,
                                                    const std::string& key) const {
  const std::string context =
      absl::StrCat("cannot register system shared memory region '", Quoted(name), "'");
  switch (options_.system_access) {
    case SystemSharedMemoryAccess::kAll:
      break;
    case SystemSharedMemoryAccess::kUnixSocket:
      if (client.uid) break;
      return absl::PermissionDeniedError(absl::StrCat(
          context,
          ": this server takes system shared memory only from clients on its "
          "Unix-domain socket (--system-shared-memory=unix-socket, --grpc-unix-socket)"));
    case SystemSharedMemoryAccess::kNone:
      return absl::PermissionDeniedError(
          absl::StrCat(context, ": system shared memory is off (--system-shared-memory=off)"));
  }
  if (!absl::StartsWith(ObjectName(key), ObjectName(options_.key_prefix))) {
    return absl::PermissionDeniedError(absl::StrCat(context, ": its key '", Quoted(key),
                                                    "' does not start with '", options_.key_prefix,
                                                    "' (--shared-memory-key-prefix)"));
  }
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Register(const SharedMemoryClient& client,
                                           const std::string& name, const std::string& key,
                                           uint64_t offset, uint64_t byte_size) {
  SONIC_RETURN_IF_ERROR(CheckSystemAccess(client, name, key));
  SystemSharedMemoryRegion::Owners owners;
  if (client.uid) {
    owners = {.uids = {*client.uid}, .flag = "the client's own, on the Unix-domain socket"};
  } else if (options_.allowed_owner_uids.empty()) {
    owners = {.uids = {static_cast<uint32_t>(geteuid())},
              .flag = "the server's (--shared-memory-owner-uid)"};
  } else {
    owners = {.uids = options_.allowed_owner_uids, .flag = "--shared-memory-owner-uid"};
  }
  return Register(client, name, [&]() -> absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> {
    return SystemSharedMemoryRegion::Create(name, key, offset, byte_size, owners);
  });
}

absl::Status SharedMemoryManager::CheckRoom(const std::string& name, uint64_t byte_size) const {
  if (regions_.size() >= options_.max_regions) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot register shared memory region '", Quoted(name), "': ", regions_.size(),
        " regions are registered, the limit (--max-shared-memory-regions); unregister some"));
  }
  uint64_t total = 0;
  if (__builtin_add_overflow(total_bytes_, byte_size, &total) || total > options_.max_total_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot register shared memory region '", Quoted(name), "' of ", byte_size,
        " bytes: the registered regions hold ", total_bytes_, " bytes, and at most ",
        options_.max_total_bytes, " are allowed (--max-shared-memory-bytes); unregister some"));
  }
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Register(const SharedMemoryClient& client,
                                           const std::string& name, RegionOpener open) {
  if (name.empty()) {
    return absl::InvalidArgumentError("a shared memory region needs a non-empty name");
  }
  {
    absl::MutexLock lock(&mutex_);
    if (regions_.contains(name)) return NameTaken(name);
    SONIC_RETURN_IF_ERROR(CheckRoom(name, 0));
  }
  // Opened outside the lock: system calls must not stall other registrations or requests.
  absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> region = open();
  if (!region.ok()) return region.status();
  if (*region == nullptr || (*region)->name() != name) {
    return absl::InternalError(
        absl::StrCat("shared memory region '", Quoted(name), "': opened a region of another name"));
  }
  absl::MutexLock lock(&mutex_);
  if (regions_.contains(name)) return NameTaken(name);
  // Checked again: other registrations may have filled the room while this one opened.
  SONIC_RETURN_IF_ERROR(CheckRoom(name, (*region)->byte_size()));
  total_bytes_ += (*region)->byte_size();
  regions_.emplace(name, Entry{*std::move(region), client.identity});
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Unregister(const SharedMemoryClient& client,
                                             SharedMemoryKind kind, const std::string& name) {
  std::shared_ptr<SharedMemoryRegion> dropped;  // closed (maybe) after the lock is released
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  // As Triton: a name that is not registered (as this kind) is already unregistered.
  if (it == regions_.end() || it->second.region->kind() != kind) return absl::OkStatus();
  if (it->second.owner != client.identity) return OwnedByAnother(kind, name);
  dropped = std::move(it->second.region);
  total_bytes_ -= dropped->byte_size();
  regions_.erase(it);
  return absl::OkStatus();
}

void SharedMemoryManager::UnregisterAll(const SharedMemoryClient& client, SharedMemoryKind kind) {
  std::vector<std::shared_ptr<SharedMemoryRegion>> dropped;
  absl::MutexLock lock(&mutex_);
  for (auto it = regions_.begin(); it != regions_.end();) {
    if (it->second.region->kind() == kind && it->second.owner == client.identity) {
      total_bytes_ -= it->second.region->byte_size();
      dropped.push_back(std::move(it->second.region));
      it = regions_.erase(it);
    } else {
      ++it;
    }
  }
}

void SharedMemoryManager::UnregisterAll() {
  std::map<std::string, Entry> dropped;
  absl::MutexLock lock(&mutex_);
  dropped.swap(regions_);
  total_bytes_ = 0;
}

absl::StatusOr<std::vector<SharedMemoryRegionStatus>> SharedMemoryManager::Status(
    const SharedMemoryClient& client, SharedMemoryKind kind, const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  std::vector<SharedMemoryRegionStatus> result;
  for (const auto& [region_name, entry] : regions_) {
    if (entry.region->kind() != kind || entry.owner != client.identity ||
        (!name.empty() && region_name != name)) {
      continue;
    }
    result.push_back(entry.region->Status());
  }
  if (!name.empty() && result.empty()) return UnknownRegion(kind, name);
  return result;
}

absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> SharedMemoryManager::Acquire(
    const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  if (it == regions_.end()) return UnknownRegion(name);
  return std::shared_ptr<const SharedMemoryRegion>(it->second.region);
}

absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> SharedMemoryManager::Acquire(
    const SharedMemoryClient& client, const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  if (it == regions_.end() || it->second.owner != client.identity) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown shared memory region '", Quoted(name),
                     "': this client has not registered it (regions belong to the client "
                     "that registered them: its host, or its user on the Unix-domain socket)"));
  }
  return std::shared_ptr<const SharedMemoryRegion>(it->second.region);
}

}  // namespace sonic::server
