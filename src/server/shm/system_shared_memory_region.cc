#include "server/shm/system_shared_memory_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/shm/mapping_fault_guard.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

std::string ErrnoText(int error) { return std::string(std::strerror(error)); }

}  // namespace

absl::StatusOr<std::shared_ptr<SystemSharedMemoryRegion>> SystemSharedMemoryRegion::Create(
    const std::string& name, const std::string& key, uint64_t offset, uint64_t byte_size,
    const Owners& owners) {
  const std::string context =
      absl::StrCat("shared memory region '", Quoted(name), "' (key '", Quoted(key), "')");
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
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(context, ": not a shared memory object"));
  }
  if (std::find(owners.uids.begin(), owners.uids.end(), static_cast<uint32_t>(info.st_uid)) ==
      owners.uids.end()) {
    close(fd);
    return absl::PermissionDeniedError(absl::StrCat(
        context, ": the shared memory object belongs to another user than the one(s) allowed: ",
        owners.flag));
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
  if (mapping == MAP_FAILED) {
    int error = errno;
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(context, ": mmap failed: ", ErrnoText(error)));
  }
  std::optional<size_t> guard = GuardMapping(mapping, map_size);
  if (!guard) {
    munmap(mapping, map_size);
    close(fd);
    return absl::ResourceExhaustedError(
        absl::StrCat(context, ": too many shared memory regions mapped at once"));
  }
  std::byte* base = static_cast<std::byte*>(mapping) + (offset - map_offset);
  return std::shared_ptr<SystemSharedMemoryRegion>(new SystemSharedMemoryRegion(
      name, key, offset, byte_size, fd, mapping, map_size, base, *guard));
}

SystemSharedMemoryRegion::~SystemSharedMemoryRegion() {
  UnguardMapping(guard_slot_);
  munmap(mapping_, mapping_size_);
  close(fd_);
}

absl::Status SystemSharedMemoryRegion::CheckObjectCovers(uint64_t offset, uint64_t size) const {
  if (MappingPoisoned(guard_slot_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shared memory region '", Quoted(name()), "' (key '", Quoted(key_),
        "'): the shared memory object was shrunk while a request used it; its mapping no longer "
        "shows the object (register the region again)"));
  }
  struct stat info {};
  if (fstat(fd_, &info) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("shared memory region '", Quoted(name()),
                                                   "': fstat failed: ", ErrnoText(errno)));
  }
  // CheckWindow has bounded offset + size by byte_size, so this cannot overflow.
  const uint64_t end = offset_ + offset + size;
  if (static_cast<uint64_t>(info.st_size) < end) {
    return absl::InvalidArgumentError(
        absl::StrCat("shared memory region '", Quoted(name()), "' (key '", Quoted(key_),
                     "'): the shared memory object was shrunk to ", info.st_size,
                     " bytes after it was registered; the request needs its bytes up to ", end,
                     " (register the region again)"));
  }
  return absl::OkStatus();
}

SharedMemoryRegionStatus SystemSharedMemoryRegion::Status() const {
  SharedMemoryRegionStatus status;
  status.name = name();
  status.kind = kind();
  status.key = key_;
  status.offset = offset_;
  status.byte_size = byte_size();
  return status;
}

absl::StatusOr<std::span<std::byte>> SystemSharedMemoryRegion::Bytes(uint64_t offset,
                                                                     uint64_t size) const {
  SONIC_RETURN_IF_ERROR(CheckWindow(offset, size));
  SONIC_RETURN_IF_ERROR(CheckObjectCovers(offset, size));
  return std::span<std::byte>(base_ + offset, static_cast<size_t>(size));
}

absl::Status SystemSharedMemoryRegion::Read(uint64_t offset,
                                            std::span<std::byte> destination) const {
  SONIC_ASSIGN_OR_RETURN(std::span<std::byte> bytes, Bytes(offset, destination.size()));
  if (!bytes.empty()) std::memcpy(destination.data(), bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status SystemSharedMemoryRegion::Write(uint64_t offset,
                                             std::span<const std::byte> source) const {
  SONIC_ASSIGN_OR_RETURN(std::span<std::byte> bytes, Bytes(offset, source.size()));
  if (!bytes.empty()) std::memcpy(bytes.data(), source.data(), bytes.size());
  return absl::OkStatus();
}

}  // namespace sonic::server
