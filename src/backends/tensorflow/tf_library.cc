#include "backends/tensorflow/tf_library.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/python_host/python_environment.h"

#if defined(__SANITIZE_ADDRESS__)
#define SONIC_TF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SONIC_TF_SANITIZED 1
#endif
#endif

namespace sonic::backends::tensorflow {
absl::StatusOr<const TfApi*> OpenTfLibrary(const std::string& library) {
#ifdef SONIC_TF_SANITIZED
  return absl::FailedPreconditionError(absl::StrCat(
      "TensorFlow (", library,
      ") cannot be loaded in a sanitized build: it must be opened with RTLD_DEEPBIND to keep its "
      "own protobuf, which AddressSanitizer refuses"));
#else
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr) {
    const char* reason = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load TensorFlow from ", library, ": ",
                     reason == nullptr ? "unknown dlopen error" : reason,
                     " (install it with scripts/bootstrap.sh)"));
  }
  auto* api = new TfApi;  // Lives as long as the library: for the life of the process.
  std::string missing;
#define SONIC_TF_RESOLVE(name)                                             \
  api->name = reinterpret_cast<decltype(api->name)>(dlsym(handle, #name)); \
  if (api->name == nullptr) missing = #name;
  SONIC_TF_FUNCTIONS(SONIC_TF_RESOLVE)
#undef SONIC_TF_RESOLVE
  if (!missing.empty()) {
    delete api;
    return absl::FailedPreconditionError(
        absl::StrCat(library, " does not export TensorFlow's C API function ", missing));
  }
  return api;
#endif
}

absl::StatusOr<const TfApi*> LoadTfApi() {
  static std::mutex mutex;
  static absl::StatusOr<const TfApi*>* loaded = nullptr;  // Never freed, as the library.
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded == nullptr) {
    absl::StatusOr<std::string> library = TfLibraryPath();
    loaded =
        new absl::StatusOr<const TfApi*>(library.ok() ? OpenTfLibrary(*library) : library.status());
  }
  return *loaded;
}

absl::StatusOr<std::string> TfLibraryPath() {
  absl::StatusOr<python_host::PythonEnvironment> environment =
      python_host::DefaultPythonEnvironment(reinterpret_cast<const void*>(&TfLibraryPath));
  if (!environment.ok()) {
    return absl::Status(environment.status().code(),
                        absl::StrCat("tensorflow backend: ", environment.status().message()));
  }
  const std::filesystem::path library = environment->path / SONIC_TENSORFLOW_LIBRARY_IN_ENV;
  std::error_code error;
  if (!std::filesystem::exists(library, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tensorflow backend: no TensorFlow library at ", library.string(), " (environment from ",
        environment->origin,
        "): set SONIC_PYTHON_HOME to a virtual environment holding the "
        "tensorflow-cpu wheel the plugin was built against (scripts/requirements.txt)"));
  }
  return library.string();
}

}  // namespace sonic::backends::tensorflow
