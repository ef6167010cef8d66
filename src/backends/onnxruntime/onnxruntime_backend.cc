// The onnxruntime backend's C entry points: libsonic_backend_onnxruntime.so exports SonicBackendGetApi
// and nothing else, made by BackendEntryPoints (backends/common/backend_plugin.h). Behaviour is
// described in onnx_model.h.
#include "backends/common/backend_plugin.h"
#include "backends/onnxruntime/onnx_model.h"

namespace sonic::backends::onnxruntime {
namespace {

constexpr char kName[] = "onnxruntime";
using EntryPoints = BackendEntryPoints<kName, OnnxModel, OnnxInstance>;

}  // namespace
}  // namespace sonic::backends::onnxruntime

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::onnxruntime::EntryPoints::kApi;
}
