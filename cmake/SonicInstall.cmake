# `cmake --install` and CPack.
#
# The installed tree is relocatable and keeps the build tree's shape: bin/ (sonic-server, sonic),
# lib/ (libsonic_proto.so, the static client-side libraries, the plugins: backends and the
# demonstrator's direct-inference plugin, found by the binaries as <bin>/../lib), include/sonic/
# (the public headers), lib/cmake/Sonic (the CMake package: find_package(Sonic) gives
# Sonic::client, Sonic::service and Sonic::framework).
#
# CPack's Debian packages, one per component (`cpack -G DEB` in the build folder):
#   libsonic     the shared runtime library both others need (generated protocol code);
#   sonic-server the server, the `sonic` tool, the backend and direct-inference plugins;
#   sonic-server-python-backends  the onnxruntime, tensorflow and python backend plugins, which
#                run on a Python environment the site provides (SONIC_PYTHON_HOME);
#   libsonic-client-dev  headers, the client-side libraries and the CMake package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Libraries in lib/ whatever the platform's multiarch folder, so that <bin>/../lib holds the
# plugins in an installed tree as in the build tree.
set(SONIC_INSTALL_LIBDIR lib)
set(SONIC_INSTALL_CMAKEDIR ${SONIC_INSTALL_LIBDIR}/cmake/Sonic)

set_target_properties(sonic_client PROPERTIES EXPORT_NAME client)
set_target_properties(sonic_service PROPERTIES EXPORT_NAME service)
set_target_properties(sonic_framework PROPERTIES EXPORT_NAME framework)
set_target_properties(sonic_common PROPERTIES EXPORT_NAME common)
set_target_properties(sonic_transport PROPERTIES EXPORT_NAME transport)
set_target_properties(sonic_yaml PROPERTIES EXPORT_NAME yaml)
set_target_properties(sonic_proto PROPERTIES EXPORT_NAME proto)

install(TARGETS sonic_proto EXPORT SonicTargets
  LIBRARY DESTINATION ${SONIC_INSTALL_LIBDIR} COMPONENT runtime)
install(TARGETS sonic_client sonic_service sonic_framework sonic_common sonic_yaml sonic_transport
  EXPORT SonicTargets
  ARCHIVE DESTINATION ${SONIC_INSTALL_LIBDIR} COMPONENT client-dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sonic
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT client-dev)
install(EXPORT SonicTargets NAMESPACE Sonic:: DESTINATION ${SONIC_INSTALL_CMAKEDIR}
  COMPONENT client-dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/SonicConfig.cmake.in
  ${CMAKE_BINARY_DIR}/SonicConfig.cmake INSTALL_DESTINATION ${SONIC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/SonicConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/SonicConfig.cmake ${CMAKE_BINARY_DIR}/SonicConfigVersion.cmake
  DESTINATION ${SONIC_INSTALL_CMAKEDIR} COMPONENT client-dev)

install(TARGETS sonic-server sonic RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
set(plugins sonic_demo_direct)
if(TARGET sonic_backend_pytorch)
  list(APPEND plugins sonic_backend_pytorch)
endif()
if(TARGET sonic_backend_fil)
  list(APPEND plugins sonic_backend_fil)
endif()
install(TARGETS ${plugins} LIBRARY DESTINATION ${SONIC_INSTALL_LIBDIR} COMPONENT server)
if(TARGET sonic_demo_models)
  # `sonic models generate --onnx/--tensorflow` runs it (<prefix>/share/sonic/, found from lib/).
  install(FILES ${PROJECT_SOURCE_DIR}/src/demonstrator/models/export_models.py
    DESTINATION ${CMAKE_INSTALL_DATADIR}/sonic COMPONENT server)
endif()

# The backends on a Python environment: onnxruntime and python on the embedded CPython (Debian's
# libpython3.11), tensorflow on the tensorflow-cpu wheel's library. The python backend's modules
# go to lib/sonic_python_backend/, where the plugin looks for them (beside its file). The
# environment itself is the site's (SONIC_PYTHON_HOME; an installed plugin has no default), made
# from share/sonic/requirements.txt.
set(python_plugins sonic_backend_onnxruntime sonic_backend_python)
if(TARGET sonic_backend_tensorflow)
  list(APPEND python_plugins sonic_backend_tensorflow)
endif()
install(TARGETS ${python_plugins} LIBRARY DESTINATION ${SONIC_INSTALL_LIBDIR}
  COMPONENT python-backends)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/backends/python/python/
  DESTINATION ${SONIC_INSTALL_LIBDIR}/sonic_python_backend COMPONENT python-backends
  FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/scripts/requirements.txt
  DESTINATION ${CMAKE_INSTALL_DATADIR}/sonic COMPONENT python-backends)

set(CPACK_PACKAGE_NAME sonic)
set(CPACK_PACKAGE_VENDOR "SONIC")
set(CPACK_PACKAGE_CONTACT "SONIC developers <sonic@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Inference as a service for scientific event processing (a drop-in for NVIDIA Triton)")
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime server python-backends client-dev)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# Debian dependencies of the binaries and shared libraries, from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libsonic)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME sonic-server)
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_NAME libsonic-client-dev)
set(CPACK_COMPONENT_SERVER_DEPENDS runtime)
set(CPACK_COMPONENT_CLIENT-DEV_DEPENDS runtime)
# Apart from sonic-server so that a site serving only LibTorch or tree models installs neither
# libpython3.11 nor the Python environment (over a gigabyte of wheels). python3-venv makes that
# environment (README: "The Python backends").
set(CPACK_DEBIAN_PYTHON-BACKENDS_PACKAGE_NAME sonic-server-python-backends)
set(CPACK_COMPONENT_PYTHON-BACKENDS_DEPENDS server)
set(CPACK_DEBIAN_PYTHON-BACKENDS_PACKAGE_RECOMMENDS "python3-venv")
# The static client-side libraries are linked against these at the user's build.
set(CPACK_DEBIAN_CLIENT-DEV_PACKAGE_DEPENDS
  "libabsl-dev, libgrpc++-dev, libprotobuf-dev, protobuf-compiler-grpc, libyaml-cpp-dev, libtbb-dev")
include(CPack)
