// Default AddressSanitizer options of the ASan build. SONIC_SANITIZE=ON links this object into
// every target, so every test and every server a test starts runs with them; ASAN_OPTIONS in the
// environment still overrides each option.
//
// intercept_tls_get_addr=0: GCC 12's sanitizer runtime (libasan.so.8; those up to GCC 13 and
// LLVM 16 do the same) takes a dynamic TLS block for one with a glibc-2.19 header whenever the
// block starts 16 bytes past a page boundary, and reads two words of unrelated memory as the
// block's address and size. At exit LeakSanitizer scans that made-up range and its tracer dies
// ("Tracer caught signal 11" in ScanRangeForPointers): a process that leaked nothing fails. A
// sonic-server with many threads met it in a few of every hundred exits under load (CI's
// server_trace_test failure, reproduced here). Without the interception LeakSanitizer still scans
// every thread's stack, static TLS and the heap; it skips dynamic TLS blocks (thread_local data of
// dlopen()ed libraries), so a pointer held only there could be reported as a leak, never hidden.
//
// Weak: a test with its own __asan_default_options (one that embeds Python, which is never
// finalized) keeps its own. Either definition is in the executable, which the dynamic linker
// searches ahead of libasan and its weak default.
extern "C" __attribute__((weak, visibility("default"))) const char* __asan_default_options() {
  return "intercept_tls_get_addr=0";
}
