// ThreadSanitizer does not see into the uninstrumented libraries Debian ships (gRPC, oneTBB): an
// object handed through one of them from one thread to another (a gRPC call and its callback, a
// task enqueued on a oneTBB arena and its worker) looks raced. HandOff(key) after the last write
// before the hand-off, and TakeOver(key) first thing on the receiving thread, tell TSan of the
// order the library keeps. No-ops in every other build. (The TSan build defines _GLIBCXX_TSAN
// and undefines GCC's __SANITIZE_THREAD__: cmake/SonicSanitizers.cmake.)
#pragma once

#if defined(_GLIBCXX_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace sonic {

inline void HandOff([[maybe_unused]] const void* key) {
#if defined(_GLIBCXX_TSAN)
  __tsan_release(const_cast<void*>(key));
#endif
}

inline void TakeOver([[maybe_unused]] const void* key) {
#if defined(_GLIBCXX_TSAN)
  __tsan_acquire(const_cast<void*>(key));
#endif
}

}  // namespace sonic
