# sonic_server_parsing: translation between the wire messages (KServe v2 / Triton) and the core's
# request and response types, validated against the model configuration. No gRPC service code:
# the frontend's service calls these functions.
# Included from src/server/frontend/CMakeLists.txt; paths are relative to this file so that it
# works from any including directory.
add_library(sonic_server_parsing STATIC
  ${CMAKE_CURRENT_LIST_DIR}/infer_request_parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/infer_response_builder.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_metadata.cc
)
target_include_directories(sonic_server_parsing PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sonic_server_parsing
  PUBLIC sonic_common sonic_proto absl::status absl::statusor absl::any_invocable
  PRIVATE absl::strings)
sonic_target_warnings(sonic_server_parsing)

sonic_add_test(NAME infer_request_parser_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/infer_request_parser_test.cc
  LIBS sonic_server_parsing LABELS unit)
sonic_add_test(NAME infer_response_builder_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/infer_response_builder_test.cc
  LIBS sonic_server_parsing LABELS unit)
sonic_add_test(NAME model_metadata_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/model_metadata_test.cc
  LIBS sonic_server_parsing LABELS unit)
