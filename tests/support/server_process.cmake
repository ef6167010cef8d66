# sonic_server_process: starts the real sonic-server binary for integration tests
# (server_process.h). Included from tests/support/CMakeLists.txt.
add_library(sonic_server_process STATIC ${CMAKE_CURRENT_LIST_DIR}/server_process.cc)
target_include_directories(sonic_server_process PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(sonic_server_process
  PUBLIC absl::status absl::statusor absl::time Threads::Threads
  PRIVATE absl::strings)
sonic_target_warnings(sonic_server_process)
