// The tensorflow backend's C entry points: libsonic_backend_tensorflow.so exports
// SonicBackendGetApi and nothing else. Every entry point catches every exception (GuardedCall), so
// none crosses the C boundary. Behaviour is described in tf_model.h.
#include <memory>
#include <span>

#include "backends/common/backend_error.h"
#include "backends/tensorflow/tf_model.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/status.h"

struct SonicBackendModel {
  std::unique_ptr<sonic::backends::tensorflow::TfModel> model;
};

struct SonicBackendInstance {
  std::unique_ptr<sonic::backends::tensorflow::TfInstance> instance;
};

namespace sonic::backends::tensorflow {
namespace {

SonicBackendError* ModelCreate(const SonicBackendModelSpec* spec, SonicBackendModel** model) {
  return GuardedCall("tensorflow model_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<TfModel> created, TfModel::Create(*spec));
    *model = new SonicBackendModel{std::move(created)};
    return absl::OkStatus();
  });
}

void ModelDestroy(SonicBackendModel* model) {
  // Destructors of TensorFlow objects do not throw in practice; if one did, there is no one to
  // report to, so the object is dropped rather than letting the exception cross the boundary.
  try {
    delete model;
  } catch (...) {
  }
}

SonicBackendError* InstanceCreate(SonicBackendModel* model, const SonicBackendInstanceSpec* spec,
                                  SonicBackendInstance** instance) {
  return GuardedCall("tensorflow instance_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<TfInstance> created,
                           model->model->CreateInstance(*spec));
    *instance = new SonicBackendInstance{std::move(created)};
    return absl::OkStatus();
  });
}

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
  return GuardedCall("tensorflow instance_execute", [&] {
    return instance->instance->Execute(std::span(inputs, input_count),
                                       std::span(output_names, output_count), batch_size,
                                       *allocator);
  });
}

constexpr SonicBackendApi kTensorflowApi = {
    .api_version = SONIC_BACKEND_API_VERSION,
    .name = "tensorflow",
    .error_code = &BackendErrorCode,
    .error_message = &BackendErrorMessage,
    .error_delete = &BackendErrorDelete,
    .model_create = &ModelCreate,
    .model_destroy = &ModelDestroy,
    .instance_create = &InstanceCreate,
    .instance_destroy = &InstanceDestroy,
    .instance_execute = &InstanceExecute,
};

}  // namespace
}  // namespace sonic::backends::tensorflow

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::tensorflow::kTensorflowApi;
}
