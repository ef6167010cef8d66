#include "server/backend/backend_registry.h"

#include <algorithm>

#include <dlfcn.h>

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/identity/identity_backend.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

bool IsValidBackendName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string DlErrorText() {
  const char* text = dlerror();
  return text == nullptr ? "unknown dlopen error" : text;
}

}  // namespace

std::filesystem::path DefaultBackendDirectory() {
  std::error_code error;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error || exe.empty()) return {};
  return exe.parent_path().parent_path() / "lib";
}

absl::Status ValidateBackendApi(const SonicBackendApi* api, std::string_view expected_name_view,
                                std::string_view origin_view) {
  // absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
  const std::string expected_name(expected_name_view);
  const std::string origin(origin_view);
  if (api == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("backend '", expected_name, "' (", origin, ") returned no function table"));
  }
  if (api->api_version != SONIC_BACKEND_API_VERSION) {
    return absl::FailedPreconditionError(absl::StrCat(
        "backend '", expected_name, "' (", origin, ") was built for backend API version ",
        api->api_version, " but this server speaks version ", SONIC_BACKEND_API_VERSION,
        "; rebuild the backend against this server's backend_api.h"));
  }
  if (api->name == nullptr || expected_name != api->name) {
    return absl::FailedPreconditionError(absl::StrCat("backend library ", origin, " calls itself '",
                                                      api->name == nullptr ? "" : api->name,
                                                      "', not '", expected_name, "'"));
  }
  if (api->error_code == nullptr || api->error_message == nullptr || api->error_delete == nullptr ||
      api->model_create == nullptr || api->model_destroy == nullptr ||
      api->instance_create == nullptr || api->instance_destroy == nullptr ||
      api->instance_execute == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("backend '", expected_name, "' (", origin,
                                                      ") has missing functions in its table"));
  }
  return absl::OkStatus();
}

BackendRegistry::BackendRegistry(std::filesystem::path backend_directory,
                                 std::map<std::string, BackendSettings> settings)
    : backend_directory_(std::move(backend_directory)), settings_(std::move(settings)) {}

BackendSettings BackendRegistry::SettingsFor(std::string_view backend_name) const {
  BackendSettings merged;
  auto add = [&merged](const BackendSettings& settings) {
    for (const auto& [key, value] : settings) {
      auto same = std::find_if(merged.begin(), merged.end(),
                               [&key](const auto& entry) { return entry.first == key; });
      if (same == merged.end()) {
        merged.emplace_back(key, value);
      } else {
        same->second = value;
      }
    }
  };
  if (auto global = settings_.find(""); global != settings_.end()) add(global->second);
  if (auto own = settings_.find(std::string(backend_name)); own != settings_.end()) {
    add(own->second);
  }
  return merged;
}

absl::StatusOr<std::unique_ptr<BackendRegistry>> BackendRegistry::Create(const Options& options) {
  std::filesystem::path directory = options.backend_directory;
  if (directory.empty()) {
    directory = DefaultBackendDirectory();
    if (directory.empty()) {
      return absl::FailedPreconditionError(
          "cannot find the default backend directory (/proc/self/exe is unreadable); give the "
          "backend directory explicitly");
    }
  }
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(directory, error);
  if (!error) directory = std::move(absolute);

  auto registry = std::unique_ptr<BackendRegistry>(
      new BackendRegistry(std::move(directory), options.settings));
  const SonicBackendApi* identity = backends::IdentityBackendApi();
  SONIC_RETURN_IF_ERROR(ValidateBackendApi(identity, "identity", "built-in"));
  absl::MutexLock lock(&registry->mutex_);
  registry->backends_.emplace("identity", identity);
  return registry;
}

std::filesystem::path BackendRegistry::LibraryPath(std::string_view backend_name) const {
  return backend_directory_ / ("libsonic_backend_" + std::string(backend_name) + ".so");
}

absl::StatusOr<const SonicBackendApi*> BackendRegistry::Get(std::string_view backend_name_view) {
  const std::string backend_name(backend_name_view);
  if (!IsValidBackendName(backend_name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid backend name '", backend_name,
                     "': a backend name is letters, digits, '_' and '-'"));
  }
  absl::MutexLock lock(&mutex_);
  auto it = backends_.find(backend_name);
  if (it != backends_.end()) return it->second;
  SONIC_ASSIGN_OR_RETURN(const SonicBackendApi* api, LoadPlugin(backend_name));
  backends_.emplace(backend_name, api);
  return api;
}

absl::StatusOr<const SonicBackendApi*> BackendRegistry::LoadPlugin(
    const std::string& backend_name) {
  const std::filesystem::path path = LibraryPath(backend_name);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(
        absl::StrCat("backend '", backend_name, "' not found: ", path.string(), " does not exist"));
  }
  dlerror();  // Clears any stale error so the texts below are about this library.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot load backend '", backend_name, "' from ", path.string(), ": ", DlErrorText()));
  }
  void* symbol = dlsym(handle, SONIC_BACKEND_GET_API_SYMBOL);
  if (symbol == nullptr) {
    const std::string why = DlErrorText();
    dlclose(handle);
    return absl::FailedPreconditionError(
        absl::StrCat(path.string(), " is not a SONIC backend: it does not export ",
                     SONIC_BACKEND_GET_API_SYMBOL, " (", why, ")"));
  }
  const SonicBackendApi* api = reinterpret_cast<SonicBackendGetApiFn>(symbol)();
  // From here on the handle is never closed, not even when the table is unusable: the library's
  // code has run and may have started threads (see the class comment).
  SONIC_RETURN_IF_ERROR(ValidateBackendApi(api, backend_name, path.string()));
  // Optional: a backend executed request by request.
  if (void* requests = dlsym(handle, SONIC_BACKEND_GET_REQUEST_API_SYMBOL); requests != nullptr) {
    const SonicBackendRequestApi* request_api =
        reinterpret_cast<SonicBackendGetRequestApiFn>(requests)();
    if (request_api == nullptr || request_api->api_version != SONIC_BACKEND_API_VERSION ||
        request_api->instance_execute_requests == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "backend '", backend_name, "' (", path.string(), ") exports ",
          SONIC_BACKEND_GET_REQUEST_API_SYMBOL, " without a usable table for backend API version ",
          SONIC_BACKEND_API_VERSION));
    }
    RegisterRequestApi(api, request_api);
  }
  return api;
}

}  // namespace sonic::server
