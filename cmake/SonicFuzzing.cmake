# Fuzz targets: each is a source defining LLVMFuzzerTestOneInput, beside the code it fuzzes, with
# a seed corpus in tests/fuzz/corpus/<target>/ (made by tests/fuzz/make_seed_corpus.py).
#
# SONIC_FUZZ=ON (clang; `make fuzz`, build folder build-fuzz): the targets are libFuzzer binaries
# with AddressSanitizer and UndefinedBehaviorSanitizer, the project's code instrumented for
# coverage; the `fuzzers` target builds them all.
# Otherwise each target is linked with tests/fuzz/fuzz_driver.cc (the seed corpus, then mutated
# inputs from a fixed seed, no coverage feedback) and runs briefly as the CTest test
# <target>_quick: in `make test`, and under the sanitizers in `make test-asan`.
option(SONIC_FUZZ "Build the fuzz targets with libFuzzer (clang; see make fuzz)" OFF)

if(SONIC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SONIC_FUZZ needs clang (libFuzzer): CXX=clang++-14 CC=clang-14")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  add_custom_target(fuzzers)
endif()

# sonic_add_fuzzer(NAME target SOURCES a_fuzzer.cc ... LIBS lib ...)
function(sonic_add_fuzzer)
  cmake_parse_arguments(F "" "NAME" "SOURCES;LIBS" ${ARGN})
  if(SONIC_FUZZ)
    add_executable(${F_NAME} ${F_SOURCES})
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzzers ${F_NAME})
  elseif(SONIC_BUILD_TESTS)
    add_executable(${F_NAME} ${F_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_driver.cc)
    sonic_target_warnings(${F_NAME})
    add_test(NAME ${F_NAME}_quick
      COMMAND ${F_NAME} --runs=100000 --max-seconds=5 ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${F_NAME}
      WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    set_tests_properties(${F_NAME}_quick PROPERTIES LABELS unit TIMEOUT 120)
  else()
    add_executable(${F_NAME} EXCLUDE_FROM_ALL ${F_SOURCES}
      ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_driver.cc)
  endif()
  target_include_directories(${F_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
endfunction()
