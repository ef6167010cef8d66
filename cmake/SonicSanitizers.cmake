# SONIC_SANITIZE picks the sanitizers the whole tree is built with:
#   OFF              none (the default);
#   ON or address    AddressSanitizer + UndefinedBehaviorSanitizer (`make test-asan`, build-asan);
#   thread           ThreadSanitizer (`make test-tsan`, build-tsan, tests/tsan/suppressions.txt).
# Any value but OFF is true in `if(SONIC_SANITIZE)`, so what is left out of sanitized builds is
# left out of both; SONIC_TSAN is true in the ThreadSanitizer build only.
set(SONIC_SANITIZE OFF CACHE STRING "Sanitizers: OFF, ON (= address: ASan+UBSan) or thread (TSan)")
set_property(CACHE SONIC_SANITIZE PROPERTY STRINGS OFF ON address thread)

set(SONIC_TSAN OFF)
string(TOLOWER "${SONIC_SANITIZE}" sonic_sanitize_value)
if(sonic_sanitize_value STREQUAL "thread")
  set(SONIC_TSAN ON)
  # Frame pointers give the reports whole stacks. GCC warns (-Wtsan) where code uses
  # std::atomic_thread_fence, which TSan does not model; that warning stays an error. GCC 12's
  # -Wstringop-overflow misfires on std::vector's inlined copies in the instrumented code (the
  # other builds keep it).
  # The headers of the prebuilt libraries must describe them as they were built, without TSan:
  # under __SANITIZE_THREAD__ protobuf's MapFieldBase gains two fields, and the generated code
  # then disagrees with libprotobuf about every map field (a crash in the first text-format
  # parse); Abseil and oneTBB pick other internals. libstdc++'s TSan-friendly shared_ptr release
  # is inline code, kept on with _GLIBCXX_TSAN.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-stringop-overflow
                      -U__SANITIZE_THREAD__ -D_GLIBCXX_TSAN=1)
  add_link_options(-fsanitize=thread)
  # Debian's Abseil is not instrumented: its mutexes are made visible to TSan by a library that
  # every target links ahead of Abseil (tests/tsan/absl_sync_annotations.cc says how).
  add_library(sonic_tsan_absl SHARED ${PROJECT_SOURCE_DIR}/tests/tsan/absl_sync_annotations.cc)
  target_include_directories(sonic_tsan_absl SYSTEM PRIVATE
    $<TARGET_PROPERTY:absl::synchronization,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(sonic_tsan_absl PRIVATE ${CMAKE_DL_LIBS})
  sonic_target_warnings(sonic_tsan_absl)
  link_libraries($<BUILD_INTERFACE:sonic_tsan_absl>)
elseif(sonic_sanitize_value MATCHES "^(on|address|yes|true|1)$")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # Default ASan options, compiled into every target (tests/asan/default_options.cc says which
  # and why).
  add_library(sonic_asan_defaults OBJECT ${PROJECT_SOURCE_DIR}/tests/asan/default_options.cc)
  link_libraries($<BUILD_INTERFACE:sonic_asan_defaults>)
elseif(SONIC_SANITIZE)
  message(FATAL_ERROR "SONIC_SANITIZE=${SONIC_SANITIZE}: expected OFF, ON, address or thread")
endif()
