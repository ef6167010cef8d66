// Which Python environment a backend plugin uses: the virtual environment whose site-packages the
// embedded CPython imports from (onnxruntime, python backends), and whose tensorflow-cpu wheel the
// tensorflow backend opens. Needs no libpython, so plugins that only open a wheel's library use it
// too.
//
// The environment is, in order: the SONIC_PYTHON_HOME environment variable when set and not
// empty; else, for code loaded from inside the build folder it was built in, the build's default
// (the CMake cache variable SONIC_VENV, the source tree's .venv). An installed plugin has no
// default: it must never reach into a build or source tree, which may be gone or belong to
// someone else, so it needs SONIC_PYTHON_HOME.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace sonic::backends::python_host {

struct PythonEnvironment {
  std::filesystem::path path;
  std::string origin;  // "SONIC_PYTHON_HOME" or "the build's default"
};

// The environment for the module (plugin or program) whose code holds `code_address` (any function
// of the caller's module). Checks nothing about the environment's contents. FAILED_PRECONDITION,
// naming SONIC_PYTHON_HOME and the module's file, when SONIC_PYTHON_HOME is unset and the module
// lies outside the build folder. Thread-safe.
absl::StatusOr<PythonEnvironment> DefaultPythonEnvironment(const void* code_address);

// Whether `file` lies inside `folder` (both resolved through symbolic links where they exist).
bool IsInside(const std::filesystem::path& file, const std::filesystem::path& folder);

}  // namespace sonic::backends::python_host
