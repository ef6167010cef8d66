#include "server/shm/shared_memory_manager.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

std::string ErrnoText(int error) { return std::string(std::strerror(error)); }

absl::Status UnknownRegion(const std::string& name) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown shared memory region '", name, "': it is not registered"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> SharedMemoryRegion::Create(
    const std::string& name, const std::string& key, uint64_t offset, uint64_t byte_size) {
  const std::string context = absl::StrCat("shared memory region '", name, "' (key '", key, "')");
  if (byte_size == 0) return absl::InvalidArgumentError(absl::StrCat(context, ": byte_size is 0"));
  int fd = shm_open(key.c_str(), O_RDWR, 0);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(context, ": cannot open the shared memory object: ", ErrnoText(errno)));
  }
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    int error = errno;
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(context, ": fstat failed: ", ErrnoText(error)));
  }
  const uint64_t object_size = static_cast<uint64_t>(info.st_size);
  uint64_t end = 0;
  if (__builtin_add_overflow(offset, byte_size, &end) || end > object_size) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(context, ": offset ", offset, " + byte_size ", byte_size,
                     " is out of bounds of the shared memory object of ", object_size, " bytes"));
  }
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t map_offset = offset - offset % page;
  const size_t map_size = static_cast<size_t>(end - map_offset);
  void* mapping = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                       static_cast<off_t>(map_offset));
  int error = errno;
  close(fd);  // the mapping keeps the object alive
  if (mapping == MAP_FAILED) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": mmap failed: ", ErrnoText(error)));
  }
  std::byte* base = static_cast<std::byte*>(mapping) + (offset - map_offset);
  return std::shared_ptr<SharedMemoryRegion>(
      new SharedMemoryRegion(name, key, offset, byte_size, mapping, map_size, base));
}

SharedMemoryRegion::~SharedMemoryRegion() { munmap(mapping_, mapping_size_); }

absl::StatusOr<std::span<std::byte>> SharedMemoryRegion::Bytes(uint64_t offset,
                                                               uint64_t size) const {
  uint64_t end = 0;
  if (__builtin_add_overflow(offset, size, &end) || end > byte_size_) {
    return absl::InvalidArgumentError(absl::StrCat("offset ", offset, " + byte_size ", size,
                                                   " is out of bounds of shared memory region '",
                                                   name_, "' of ", byte_size_, " bytes"));
  }
  return std::span<std::byte>(base_ + offset, static_cast<size_t>(size));
}

absl::Status SharedMemoryManager::Register(const std::string& name, const std::string& key,
                                           uint64_t offset, uint64_t byte_size) {
  if (name.empty()) {
    return absl::InvalidArgumentError("a shared memory region needs a non-empty name");
  }
  {
    absl::MutexLock lock(&mutex_);
    if (regions_.contains(name)) {
      return absl::AlreadyExistsError(
          absl::StrCat("shared memory region '", name, "' is already registered"));
    }
  }
  // Mapped outside the lock: system calls must not stall other registrations or requests.
  absl::StatusOr<std::shared_ptr<SharedMemoryRegion>> region =
      SharedMemoryRegion::Create(name, key, offset, byte_size);
  if (!region.ok()) return region.status();
  absl::MutexLock lock(&mutex_);
  if (!regions_.emplace(name, *std::move(region)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("shared memory region '", name, "' is already registered"));
  }
  return absl::OkStatus();
}

absl::Status SharedMemoryManager::Unregister(const std::string& name) {
  std::shared_ptr<SharedMemoryRegion> dropped;  // unmapped (maybe) after the lock is released
  absl::MutexLock lock(&mutex_);
  auto it = regions_.find(name);
  if (it == regions_.end()) return UnknownRegion(name);
  dropped = std::move(it->second);
  regions_.erase(it);
  return absl::OkStatus();
}

void SharedMemoryManager::UnregisterAll() {
  std::map<std::string, std::shared_ptr<SharedMemoryRegion>> dropped;
  absl::MutexLock lock(&mutex_);
  dropped.swap(regions_);
}

absl::StatusOr<std::vector<SharedMemoryRegionStatus>> SharedMemoryManager::Status(
    const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  std::vector<SharedMemoryRegionStatus> result;
  for (const auto& [region_name, region] : regions_) {
    if (!name.empty() && region_name != name) continue;
    result.push_back({region->name(), region->key(), region->offset(), region->byte_size()});
  }
  if (!name.empty() && result.empty()) return UnknownRegion(name);
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
