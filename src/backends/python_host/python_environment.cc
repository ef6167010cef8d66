// See python_environment.h.
#include "backends/python_host/python_environment.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "absl/strings/str_cat.h"

#if !defined(SONIC_DEFAULT_PYTHON_HOME) || !defined(SONIC_BUILD_DIR) || \
    !defined(SONIC_PYTHON_VERSION)
#error "SONIC_DEFAULT_PYTHON_HOME, SONIC_BUILD_DIR and SONIC_PYTHON_VERSION must be defined"
#endif

namespace sonic::backends::python_host {
namespace {

// The file of the module holding `code_address`. The main program's entry is argv[0], which may
// be relative or a bare name found on PATH: /proc/self/exe names it reliably.
std::filesystem::path ModuleFile(const void* code_address) {
  Dl_info info{};
  std::filesystem::path file;
  if (dladdr(code_address, &info) != 0 && info.dli_fname != nullptr) file = info.dli_fname;
  if (!file.is_absolute()) {
    std::error_code error;
    file = std::filesystem::read_symlink("/proc/self/exe", error);
  }
  return file;
}

}  // namespace

bool IsInside(const std::filesystem::path& file, const std::filesystem::path& folder) {
  std::error_code error;
  const std::filesystem::path resolved_file = std::filesystem::weakly_canonical(file, error);
  if (error) return false;
  const std::filesystem::path resolved_folder = std::filesystem::weakly_canonical(folder, error);
  if (error || resolved_folder.empty()) return false;
  // Component by component, so that /a/build-other is not inside /a/build.
  auto folder_end = resolved_folder.end();
  if (resolved_folder.filename().empty()) --folder_end;  // A trailing separator.
  auto [folder_it, file_it] = std::mismatch(resolved_folder.begin(), folder_end,
                                            resolved_file.begin(), resolved_file.end());
  return folder_it == folder_end && file_it != resolved_file.end();
}

absl::StatusOr<PythonEnvironment> DefaultPythonEnvironment(const void* code_address) {
  if (const char* env = std::getenv("SONIC_PYTHON_HOME"); env != nullptr && *env != '\0') {
    return PythonEnvironment{env, "SONIC_PYTHON_HOME"};
  }
  const std::filesystem::path module = ModuleFile(code_address);
  if (IsInside(module, SONIC_BUILD_DIR)) {
    return PythonEnvironment{SONIC_DEFAULT_PYTHON_HOME, "the build's default"};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no Python environment: SONIC_PYTHON_HOME is not set, and ",
      module.empty() ? std::string("this plugin") : module.string(),
      " is installed (an installed plugin has no default environment); set SONIC_PYTHON_HOME to a "
      "virtual environment made with Python " SONIC_PYTHON_VERSION
      " holding the backends' packages (share/sonic/requirements.txt of the installation)"));
}

}  // namespace sonic::backends::python_host
