// The tensorflow backend's C entry points: libsonic_backend_tensorflow.so exports SonicBackendGetApi
// and nothing else, made by BackendEntryPoints (backends/common/backend_plugin.h). Behaviour is
// described in tf_model.h.
#include "backends/common/backend_plugin.h"
#include "backends/tensorflow/tf_model.h"

namespace sonic::backends::tensorflow {
namespace {

constexpr char kName[] = "tensorflow";
using EntryPoints = BackendEntryPoints<kName, TfModel, TfInstance>;

}  // namespace
}  // namespace sonic::backends::tensorflow

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::tensorflow::EntryPoints::kApi;
}
