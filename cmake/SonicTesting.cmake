include(GoogleTest)

# The environment of every test. A gRPC C++ client (1.51) polls an idle channel only every
# GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS (5 s by default), and a server shutting down
# gracefully waits for each connected client to answer its GOAWAY ping: a test that stopped its
# server while holding an idle stub waited ~5 s per stop. Polling every 100 ms ends those stops
# in ~0.1 s; no test depends on the period.
set(SONIC_TEST_GRPC_POLL "GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS=100")
set(SONIC_TEST_ENVIRONMENT "SONIC_BUILD_DIR=${CMAKE_BINARY_DIR};${SONIC_TEST_GRPC_POLL}")

# sonic_add_test(NAME name SOURCES a_test.cc ... LIBS lib ... LABELS unit|integration|slow)
# Unit tests live beside the code they test (foo_test.cc next to foo.cc).
function(sonic_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT SONIC_BUILD_TESTS)
    add_executable(${T_NAME} EXCLUDE_FROM_ALL ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  sonic_target_warnings(${T_NAME})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  # gtest_discover_tests keeps only the first value of a property: the second variable is set
  # through ENVIRONMENT_MODIFICATION.
  string(REPLACE "=" "=set:" grpc_poll "${SONIC_TEST_GRPC_POLL}")
  gtest_discover_tests(${T_NAME}
    PROPERTIES LABELS "${T_LABELS}"
    ENVIRONMENT "SONIC_BUILD_DIR=${CMAKE_BINARY_DIR}"
    ENVIRONMENT_MODIFICATION "${grpc_poll}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# sonic_add_server_test(NAME name SOURCES a.cc ... LIBS lib ...)
# A test binary that starts the real sonic-server: one CTest test per binary (not per TEST, as
# gtest_discover_tests would give), so that a suite starts its server once. Labelled
# `integration`; SONIC_BUILD_DIR tells it where bin/sonic-server and the backend plugins are.
function(sonic_add_server_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  if(NOT SONIC_BUILD_TESTS)
    add_executable(${T_NAME} EXCLUDE_FROM_ALL ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME}
    PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  sonic_target_warnings(${T_NAME})
  add_dependencies(${T_NAME} sonic-server)
  if(TARGET sonic_backend_pytorch)
    add_dependencies(${T_NAME} sonic_backend_pytorch)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  # ThreadSanitizer slows the server and the clients 5-15 times.
  set(timeout 300)
  if(SONIC_TSAN)
    set(timeout 900)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES
    LABELS integration
    ENVIRONMENT "${SONIC_TEST_ENVIRONMENT}"
    TIMEOUT ${timeout})
endfunction()
