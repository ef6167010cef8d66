#include "server/shm/shared_memory_manager.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/shm/system_shared_memory_region.h"

namespace sonic::server {
namespace {

std::string KindName(SharedMemoryKind kind) {
  return kind == SharedMemoryKind::kCuda ? "CUDA" : "system";
}

absl::Status UnknownRegion(const std::string& name) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown shared memory region '", name, "': it is not registered"));
}

absl::Status UnknownRegion(SharedMemoryKind kind, const std::string& name) {
  return absl::InvalidArgumentError(absl::StrCat("unknown ", KindName(kind),
                                                 " shared memory region '", name,
                                                 "': it is not registered"));
}

absl::Status NameTaken(const std::string& name) {
  return absl::AlreadyExistsError(
      absl::StrCat("shared memory region '", name, "' is already registered"));
}

}  // namespace

absl::Status SharedMemoryManager::Register(const std::string& name, const std::string& key,
                                           uint64_t offset, uint64_t byte_size) {
  return Register(name, [&]() -> absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> {
    return SystemSharedMemoryRegion::Create(name, key, offset, byte_size);
  });
}

absl::Status SharedMemoryManager::Register(const std::string& name, RegionOpener open) {
  if (name.empty()) {
    return absl::InvalidArgumentError("a shared memory region needs a non-empty name");
  }
  {
    absl::MutexLock lock(&mutex_);
    if (regions_.contains(name)) return NameTaken(name);
  }
  // Opened outside the lock: system calls must not stall other registrations or requests.
  absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> region = open();
  if (!region.ok()) return region.status();
  if (*region == nullptr || (*region)->name() != name) {
    return absl::InternalError(
        absl::StrCat("shared memory region '", name, "': opened a region of another name"));
  }
  absl::MutexLock lock(&mutex_);
  if (!regions_.emplace(name, *std::move(region)).second) return NameTaken(name);
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Unregister(SharedMemoryKind kind, const std::string& name) {
  std::shared_ptr<SharedMemoryRegion> dropped;  // closed (maybe) after the lock is released
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  // As Triton: a name that is not registered (as this kind) is already unregistered.
  if (it == regions_.end() || it->second->kind() != kind) return absl::OkStatus();
  dropped = std::move(it->second);
  regions_.erase(it);
  return absl::OkStatus();
}

void SharedMemoryManager::UnregisterAll(SharedMemoryKind kind) {
  std::vector<std::shared_ptr<SharedMemoryRegion>> dropped;
  absl::MutexLock lock(&mutex_);
  for (auto it = regions_.begin(); it != regions_.end();) {
    if (it->second->kind() == kind) {
      dropped.push_back(std::move(it->second));
      it = regions_.erase(it);
    } else {
      ++it;
    }
  }
}

void SharedMemoryManager::UnregisterAll() {
  std::map<std::string, std::shared_ptr<SharedMemoryRegion>> dropped;
  absl::MutexLock lock(&mutex_);
  dropped.swap(regions_);
}

absl::StatusOr<std::vector<SharedMemoryRegionStatus>> SharedMemoryManager::Status(
    SharedMemoryKind kind, const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  std::vector<SharedMemoryRegionStatus> result;
  for (const auto& [region_name, region] : regions_) {
    if (region->kind() != kind || (!name.empty() && region_name != name)) continue;
    result.push_back(region->Status());
  }
  if (!name.empty() && result.empty()) return UnknownRegion(kind, name);
  return result;
}

absl::StatusOr<std::shared_ptr<const SharedMemoryRegion>> SharedMemoryManager::Acquire(
    const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  if (it == regions_.end()) return UnknownRegion(name);
  return std::shared_ptr<const SharedMemoryRegion>(it->second);
}

}  // namespace sonic::server
