#include "memory_resource.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"

namespace sonic::transport {
namespace {

absl::Status ErrnoStatus(std::string_view what, const std::string& key) {
  return absl::UnavailableError(
      absl::StrCat(std::string(what), " of shared memory '", key, "': ", std::strerror(errno)));
}

// Creates and maps the shm object `key` of `size` bytes; the object stays linked.
absl::StatusOr<std::byte*> CreateMapping(const std::string& key, size_t size) {
  int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return ErrnoStatus("shm_open", key);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    absl::Status error = ErrnoStatus("ftruncate", key);
    close(fd);
    shm_unlink(key.c_str());
    return error;
  }
  void* mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  absl::Status error = mapping == MAP_FAILED ? ErrnoStatus("mmap", key) : absl::OkStatus();
  close(fd);
  if (!error.ok()) {
    shm_unlink(key.c_str());
    return error;
  }
  return static_cast<std::byte*>(mapping);
}

}  // namespace

std::string UniqueRegionName() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t random = std::random_device{}();
  return absl::StrCat("sonic_", getpid(), "_", counter++, "_", random);
}

size_t RoundedRegionSize(size_t bytes) {
  constexpr size_t kStep = size_t{1} << 16;
  return (std::max<size_t>(bytes, 1) + kStep - 1) / kStep * kStep;
}

absl::Status HeapResource::Reserve(size_t /*bytes*/) {
  return absl::FailedPreconditionError("the heap has no shared region");
}

SystemShmResource::~SystemShmResource() {
  Release();
  Unmap();
}

absl::Status SystemShmResource::Reserve(size_t bytes) {
  if (!name_.empty() && bytes <= size_) return absl::OkStatus();
  Release();
  Unmap();
  const std::string name = UniqueRegionName();
  const std::string key = "/" + name;
  const size_t size = RoundedRegionSize(bytes);
  absl::StatusOr<std::byte*> mapping = CreateMapping(key, size);
  if (!mapping.ok()) return mapping.status();
  mapping_ = *mapping;
  size_ = size;
  absl::Status registered = registrar_.register_region(name, key, size);
  // The server has mapped the object (or failed to): the name is no longer needed.
  shm_unlink(key.c_str());
  if (!registered.ok()) {
    Unmap();
    return registered;
  }
  name_ = name;
  return absl::OkStatus();
}

void SystemShmResource::Release() {
  if (name_.empty()) return;
  // Best effort: a server that is gone has dropped the region with the connection's process.
  (void)registrar_.unregister_region(name_);
  name_.clear();
}

void SystemShmResource::Unmap() {
  if (mapping_ != nullptr) munmap(mapping_, size_);
  mapping_ = nullptr;
  size_ = 0;
}

bool IsLocalAddress(std::string_view address) {
  if (address.starts_with("unix:")) return true;
  for (std::string_view scheme : {"ipv4:", "ipv6:", "dns:///"}) {
    if (address.starts_with(scheme)) address.remove_prefix(scheme.size());
  }
  for (std::string_view host : {"127.0.0.1:", "localhost:", "[::1]:"}) {
    if (address.starts_with(host)) return true;
  }
  return address == "localhost" || address == "127.0.0.1" || address == "::1";
}

}  // namespace sonic::transport
