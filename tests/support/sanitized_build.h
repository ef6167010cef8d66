// SONIC_SANITIZED: 1 in the builds under AddressSanitizer or ThreadSanitizer, else 0;
// SONIC_THREAD_SANITIZED: 1 under ThreadSanitizer only. For tests that cannot run there (an
// address-space limit that the sanitizers' shadow memory does not fit, a throughput that measures
// the instrumentation). The ThreadSanitizer build undefines GCC's __SANITIZE_THREAD__
// (cmake/SonicSanitizers.cmake says why) and defines _GLIBCXX_TSAN, which stands for it here.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(_GLIBCXX_TSAN)
#define SONIC_SANITIZED 1
#else
#define SONIC_SANITIZED 0
#endif

#if defined(__SANITIZE_THREAD__) || defined(_GLIBCXX_TSAN)
#define SONIC_THREAD_SANITIZED 1
#else
#define SONIC_THREAD_SANITIZED 0
#endif
