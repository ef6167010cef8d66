// Finds the function table of a backend by the name a model configuration uses ("identity",
// "pytorch", ...). Built-in backends are compiled into the server; every other backend is a
// plugin library `<backend_directory>/libsonic_backend_<name>.so`, loaded on first use.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/backend/backend_model.h"
#include "sonic/backend/backend_api.h"

namespace sonic::server {

// The `lib` folder beside the folder holding the running executable (for build/bin/sonic-server:
// build/lib, where the build puts the plugin backends), found through /proc/self/exe. Empty when
// the executable's path cannot be read.
std::filesystem::path DefaultBackendDirectory();

// Thread-safe. Plugins stay loaded for the life of the process, even after the registry is
// destroyed: LibTorch and similar libraries own threads and static state that do not survive
// dlclose. The tables returned are therefore valid for the life of the process.
class BackendRegistry {
 public:
  struct Options {
    // Where plugin libraries are looked for. Empty (the default) means DefaultBackendDirectory().
    std::filesystem::path backend_directory;
    // --backend-config settings by backend name; those under "" apply to every backend.
    std::map<std::string, BackendSettings> settings = {};
  };

  // FAILED_PRECONDITION when no backend directory is given and DefaultBackendDirectory() cannot
  // be determined. The directory need not exist: only plugin look-ups would then fail.
  static absl::StatusOr<std::unique_ptr<BackendRegistry>> Create(const Options& options);

  BackendRegistry(const BackendRegistry&) = delete;
  BackendRegistry& operator=(const BackendRegistry&) = delete;

  // The table of backend `backend_name`. The first call for a plugin loads it (dlopen with
  // RTLD_NOW | RTLD_LOCAL, which may take a second for a large framework) while holding the
  // registry's lock; later calls return the same table. Failures are not remembered, so a plugin
  // installed later is found by a later call. Errors, each naming the library file:
  //  - INVALID_ARGUMENT: the name is empty or has characters other than [A-Za-z0-9_-];
  //  - NOT_FOUND: no library file for that name;
  //  - FAILED_PRECONDITION: the file exists but cannot be loaded (dlerror says why), does not
  //    export SonicBackendGetApi, returns no table, a table for another backend name or another
  //    API version, or a table with missing functions; or exports SonicBackendGetRequestApi
  //    without a usable table (that table, when usable, is recorded with RegisterRequestApi).
  absl::StatusOr<const SonicBackendApi*> Get(std::string_view backend_name)
      ABSL_LOCKS_EXCLUDED(mutex_);

  // The settings a model of `backend_name` gets: those for every backend, then the backend's
  // own, a key given in both taking the backend's value.
  BackendSettings SettingsFor(std::string_view backend_name) const;

  // The plugin file a backend name maps to (whether or not it exists).
  std::filesystem::path LibraryPath(std::string_view backend_name) const;

  const std::filesystem::path& backend_directory() const { return backend_directory_; }

 private:
  BackendRegistry(std::filesystem::path backend_directory,
                  std::map<std::string, BackendSettings> settings);

  absl::StatusOr<const SonicBackendApi*> LoadPlugin(const std::string& backend_name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::filesystem::path backend_directory_;
  const std::map<std::string, BackendSettings> settings_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, const SonicBackendApi*> backends_ ABSL_GUARDED_BY(mutex_);
};

// Checks a table's version, name and function pointers; FAILED_PRECONDITION naming `origin`
// (a file or "built-in") when it is unusable. Used for plugin and built-in tables alike.
absl::Status ValidateBackendApi(const SonicBackendApi* api, std::string_view expected_name,
                                std::string_view origin);

}  // namespace sonic::server
