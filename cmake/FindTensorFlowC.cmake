# Finds TensorFlow's C API in the tensorflow-cpu wheel of the project's virtual environment
# (SONIC_VENV, made by scripts/bootstrap.sh): the headers under site-packages/tensorflow/include
# and libtensorflow_cc.so.2, which exports the C API (TF_NewGraph, TF_SessionRun, ...).
#
# Sets TensorFlowC_FOUND, TensorFlowC_INCLUDE_DIR and TensorFlowC_LIBRARY. The library is not
# linked: the tensorflow backend opens it at run time (src/backends/tensorflow/tf_library.h).
set(SONIC_VENV "${PROJECT_SOURCE_DIR}/.venv" CACHE PATH
    "The project's Python virtual environment, made by scripts/bootstrap.sh")
file(GLOB _sonic_tf_site_packages "${SONIC_VENV}/lib/python3*/site-packages/tensorflow")
find_path(TensorFlowC_INCLUDE_DIR tensorflow/c/c_api.h
  HINTS ${_sonic_tf_site_packages}/include NO_DEFAULT_PATH)
find_file(TensorFlowC_LIBRARY libtensorflow_cc.so.2
  HINTS ${_sonic_tf_site_packages} NO_DEFAULT_PATH)
unset(_sonic_tf_site_packages)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TensorFlowC
  REQUIRED_VARS TensorFlowC_LIBRARY TensorFlowC_INCLUDE_DIR
  REASON_FAILURE_MESSAGE
    "no tensorflow-cpu wheel with its C headers in ${SONIC_VENV} (run scripts/bootstrap.sh)")
