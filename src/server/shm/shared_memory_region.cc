#include "server/shm/shared_memory_region.h"

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server {

absl::Status SharedMemoryRegion::CheckWindow(uint64_t offset, uint64_t size) const {
  uint64_t end = 0;
  if (__builtin_add_overflow(offset, size, &end) || end > byte_size_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "offset ", offset, " + byte_size ", size, " is out of bounds of shared memory region '",
        sonic::Quoted(name_), "' of ", byte_size_, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace sonic::server
