// Broken plugins for backend_registry_test: compiled once without the entry point
// (SONIC_FAKE_PLUGIN_NO_SYMBOL) and once returning a table of a newer API version.
#include "sonic/backend/backend_api.h"

#ifdef SONIC_FAKE_PLUGIN_NO_SYMBOL
extern "C" int SonicFakePluginSomethingElse() { return 42; }
#else
namespace {
const SonicBackendApi kFutureApi = {
    .api_version = SONIC_BACKEND_API_VERSION + 1,
    .name = SONIC_FAKE_PLUGIN_NAME,
    .error_code = nullptr,
    .error_message = nullptr,
    .error_delete = nullptr,
    .model_create = nullptr,
    .model_destroy = nullptr,
    .instance_create = nullptr,
    .instance_destroy = nullptr,
    .instance_execute = nullptr,
};
}  // namespace

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &kFutureApi;
}
#endif
