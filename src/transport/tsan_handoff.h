// ThreadSanitizer does not see into gRPC (Debian builds it without TSan): an object handed to a
// gRPC call on one thread and used again in the call's callback, on another, looks raced.
// HandOff(object) after the last write before the call, and TakeOver(object) first thing in the
// callback, tell TSan of the order gRPC keeps. No-ops in every other build. (The TSan build
// defines _GLIBCXX_TSAN and undefines GCC's __SANITIZE_THREAD__: cmake/SonicSanitizers.cmake.)
#pragma once

#if defined(_GLIBCXX_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace sonic::transport {

inline void HandOff([[maybe_unused]] const void* object) {
#if defined(_GLIBCXX_TSAN)
  __tsan_release(const_cast<void*>(object));
#endif
}

inline void TakeOver([[maybe_unused]] const void* object) {
#if defined(_GLIBCXX_TSAN)
  __tsan_acquire(const_cast<void*>(object));
#endif
}

}  // namespace sonic::transport
