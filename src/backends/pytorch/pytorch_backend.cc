// The pytorch backend's C entry points: libsonic_backend_pytorch.so exports SonicBackendGetApi
// and nothing else, made by BackendEntryPoints (backends/common/backend_plugin.h). Behaviour is
// described in torch_model.h.
#include "backends/common/backend_plugin.h"
#include "backends/pytorch/torch_model.h"

namespace sonic::backends::pytorch {
namespace {

constexpr char kName[] = "pytorch";
using EntryPoints = BackendEntryPoints<kName, TorchModel, TorchInstance>;

}  // namespace
}  // namespace sonic::backends::pytorch

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::pytorch::EntryPoints::kApi;
}
