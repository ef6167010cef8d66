#include "memory_resource.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"

namespace sonic::client::internal {
namespace {

// A name no other client (in this or another process) uses: pid, a process-wide counter and a
// random number drawn once per process.
std::string UniqueKey() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t random = std::random_device{}();
  return absl::StrCat("/sonic_", getpid(), "_", counter++, "_", random);
}

// Bytes are reserved in steps, so that slowly growing events do not re-register every time.
size_t Rounded(size_t bytes) {
  constexpr size_t kStep = size_t{1} << 16;
  return (bytes + kStep - 1) / kStep * kStep;
}

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
  const std::string key = UniqueKey();
  const size_t size = Rounded(bytes == 0 ? 1 : bytes);
  absl::StatusOr<std::byte*> mapping = CreateMapping(key, size);
  if (!mapping.ok()) return mapping.status();
  mapping_ = *mapping;
  size_ = size;
  const std::string name = key.substr(1);
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

}  // namespace sonic::client::internal
