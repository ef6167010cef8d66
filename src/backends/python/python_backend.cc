// The python backend's C entry points: libsonic_backend_python.so exports SonicBackendGetApi,
// made by BackendEntryPoints (backends/common/backend_plugin.h), and SonicBackendGetRequestApi
// (batches are handed over request by request, as Triton's Python models expect), and nothing
// else. Every entry point catches every exception (GuardedCall), so none crosses the C boundary;
// an instance's finalize() runs at its destruction, a failure of it printed by the runtime.
// Behaviour is described in python_model.h.
#include <span>

#include "backends/common/backend_plugin.h"
#include "backends/python/python_model.h"

namespace sonic::backends::python {
namespace {

constexpr char kName[] = "python";
using EntryPoints = BackendEntryPoints<kName, PythonModel, PythonInstance>;

SonicBackendError* InstanceExecuteRequests(SonicBackendInstance* instance,
                                           const SonicBackendRequest* requests,
                                           uint32_t request_count,
                                           const SonicBackendResponder* responder) {
  return GuardedCall("python instance_execute_requests", [&] {
    return EntryPoints::InstanceOf(instance).ExecuteRequests(std::span(requests, request_count),
                                                             *responder);
  });
}

constexpr SonicBackendRequestApi kPythonRequestApi = {
    .api_version = SONIC_BACKEND_API_VERSION,
    .instance_execute_requests = &InstanceExecuteRequests,
};

}  // namespace
}  // namespace sonic::backends::python

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::python::EntryPoints::kApi;
}

extern "C" __attribute__((visibility("default"))) const SonicBackendRequestApi*
SonicBackendGetRequestApi() {
  return &sonic::backends::python::kPythonRequestApi;
}
