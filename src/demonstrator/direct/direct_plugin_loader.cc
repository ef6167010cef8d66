#include <dlfcn.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "demonstrator/direct/direct_plugin.h"

namespace sonic::demo {

std::filesystem::path DefaultDirectPluginPath() {
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error || exe.empty()) return kDirectPluginFile;
  return exe.parent_path().parent_path() / "lib" / kDirectPluginFile;
}

namespace {

absl::Status Refused(const std::filesystem::path& path, const std::string& reason) {
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot load the direct-inference plugin ", path.string(), ": ", reason,
      " (it is built with the `sonic` tool; direct inference and `sonic models generate` need it)"));
}

absl::StatusOr<const DirectPluginApi*> Open(const std::filesystem::path& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* text = dlerror();
    return Refused(path, text == nullptr ? "unknown dlopen error" : text);
  }
  using Entry = const DirectPluginApi* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "SonicDemoDirectPluginApi"));
  if (entry == nullptr) return Refused(path, "no SonicDemoDirectPluginApi symbol");
  const DirectPluginApi* api = entry();
  if (api == nullptr || api->version != kDirectPluginVersion || api->create_engine == nullptr) {
    return Refused(path, absl::StrCat("it is from another build (plugin version ",
                                      api == nullptr ? -1 : api->version, ", expected ",
                                      kDirectPluginVersion, ")"));
  }
  return api;
}

}  // namespace

absl::StatusOr<const DirectPluginApi*> LoadDirectPlugin(const std::filesystem::path& path) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* loaded ABSL_GUARDED_BY(mu) =
      new absl::flat_hash_map<std::string, absl::StatusOr<const DirectPluginApi*>>();
  absl::MutexLock lock(&mu);
  auto [it, inserted] = loaded->try_emplace(path.string(), nullptr);
  if (inserted) it->second = Open(path);
  return it->second;
}

}  // namespace sonic::demo
