// The fil backend's C entry points: libsonic_backend_fil.so exports SonicBackendGetApi
// and nothing else, made by BackendEntryPoints (backends/common/backend_plugin.h). Behaviour is
// described in xgboost_model.h and fil_options.h.
#include "backends/common/backend_plugin.h"
#include "backends/fil/xgboost_model.h"

namespace sonic::backends::fil {
namespace {

constexpr char kName[] = "fil";
using EntryPoints = BackendEntryPoints<kName, FilModel, FilInstance>;

}  // namespace
}  // namespace sonic::backends::fil

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::fil::EntryPoints::kApi;
}
