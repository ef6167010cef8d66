// The python backend's C entry points: libsonic_backend_python.so exports SonicBackendGetApi and
// SonicBackendGetRequestApi (batches are handed over request by request, as Triton's Python
// models expect) and nothing else. Every entry point catches every exception (GuardedCall), so
// none crosses the C boundary. Behaviour is described in python_model.h.
#include <memory>
#include <span>

#include "backends/common/backend_error.h"
#include "backends/python/python_model.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/status.h"

struct SonicBackendModel {
  std::unique_ptr<sonic::backends::python::PythonModel> model;
};

struct SonicBackendInstance {
  std::unique_ptr<sonic::backends::python::PythonInstance> instance;
};

namespace sonic::backends::python {
namespace {

SonicBackendError* ModelCreate(const SonicBackendModelSpec* spec, SonicBackendModel** model) {
  return GuardedCall("python model_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<PythonModel> created, PythonModel::Create(*spec));
    *model = new SonicBackendModel{std::move(created)};
    return absl::OkStatus();
  });
}

void ModelDestroy(SonicBackendModel* model) { delete model; }

SonicBackendError* InstanceCreate(SonicBackendModel* model, const SonicBackendInstanceSpec* spec,
                                  SonicBackendInstance** instance) {
  return GuardedCall("python instance_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<PythonInstance> created,
                           model->model->CreateInstance(*spec));
    *instance = new SonicBackendInstance{std::move(created)};
    return absl::OkStatus();
  });
}

// finalize() runs here; a failure of it is printed by the runtime, never thrown.
void InstanceDestroy(SonicBackendInstance* instance) {
  try {
    delete instance;
  } catch (...) {
  }
}

SonicBackendError* InstanceExecute(SonicBackendInstance* instance, const SonicBackendTensor* inputs,
                                   uint32_t input_count, const char* const* output_names,
                                   uint32_t output_count, uint64_t batch_size,
                                   const SonicBackendOutputAllocator* allocator) {
  return GuardedCall("python instance_execute", [&] {
    return instance->instance->Execute(std::span(inputs, input_count),
                                       std::span(output_names, output_count), batch_size,
                                       *allocator);
  });
}

SonicBackendError* InstanceExecuteRequests(SonicBackendInstance* instance,
                                           const SonicBackendRequest* requests,
                                           uint32_t request_count,
                                           const SonicBackendResponder* responder) {
  return GuardedCall("python instance_execute_requests", [&] {
    return instance->instance->ExecuteRequests(std::span(requests, request_count), *responder);
  });
}

constexpr SonicBackendApi kPythonApi = {
    .api_version = SONIC_BACKEND_API_VERSION,
    .name = "python",
    .error_code = &BackendErrorCode,
    .error_message = &BackendErrorMessage,
    .error_delete = &BackendErrorDelete,
    .model_create = &ModelCreate,
    .model_destroy = &ModelDestroy,
    .instance_create = &InstanceCreate,
    .instance_destroy = &InstanceDestroy,
    .instance_execute = &InstanceExecute,
};

constexpr SonicBackendRequestApi kPythonRequestApi = {
    .api_version = SONIC_BACKEND_API_VERSION,
    .instance_execute_requests = &InstanceExecuteRequests,
};

}  // namespace
}  // namespace sonic::backends::python

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::python::kPythonApi;
}

extern "C" __attribute__((visibility("default"))) const SonicBackendRequestApi*
SonicBackendGetRequestApi() {
  return &sonic::backends::python::kPythonRequestApi;
}
