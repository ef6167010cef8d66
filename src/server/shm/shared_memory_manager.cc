#include "server/shm/shared_memory_manager.h"

#include <utility>

#include "absl/strings/str_cat.h"
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

}  // namespace

absl::Status SharedMemoryManager::Register(const std::string& name, const std::string& key,
                                           uint64_t offset, uint64_t byte_size) {
  return Register(name, [&]() -> absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> {
    return SystemSharedMemoryRegion::Create(name, key, offset, byte_size);
  });
}

absl::Status SharedMemoryManager::CheckRoom(const std::string& name, uint64_t byte_size) const {
  if (regions_.size() >= options_.max_regions) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot register shared memory region '", Quoted(name), "': ", regions_.size(),
        " regions are registered, the limit (--max-shared-memory-regions); unregister some"));
  }
  uint64_t total = 0;
  if (__builtin_add_overflow(total_bytes_, byte_size, &total) ||
      total > options_.max_total_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot register shared memory region '", Quoted(name), "' of ", byte_size,
        " bytes: the registered regions hold ", total_bytes_, " bytes, and at most ",
        options_.max_total_bytes, " are allowed (--max-shared-memory-bytes); unregister some"));
  }
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Register(const std::string& name, RegionOpener open) {
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
  regions_.emplace(name, *std::move(region));
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Unregister(SharedMemoryKind kind, const std::string& name) {
  std::shared_ptr<SharedMemoryRegion> dropped;  // closed (maybe) after the lock is released
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  // As Triton: a name that is not registered (as this kind) is already unregistered.
  if (it == regions_.end() || it->second->kind() != kind) return absl::OkStatus();
  dropped = std::move(it->second);
  total_bytes_ -= dropped->byte_size();
  regions_.erase(it);
  return absl::OkStatus();
}

void SharedMemoryManager::UnregisterAll(SharedMemoryKind kind) {
  std::vector<std::shared_ptr<SharedMemoryRegion>> dropped;
  absl::MutexLock lock(&mutex_);
  for (auto it = regions_.begin(); it != regions_.end();) {
    if (it->second->kind() == kind) {
      total_bytes_ -= it->second->byte_size();
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
  total_bytes_ = 0;
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
