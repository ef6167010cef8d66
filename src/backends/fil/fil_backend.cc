// The fil backend's C entry points: libsonic_backend_fil.so exports SonicBackendGetApi and nothing
// else. Every entry point catches every exception (GuardedCall). Behaviour is described in
// xgboost_model.h and fil_options.h.
#include <memory>
#include <span>

#include "backends/common/backend_error.h"
#include "backends/fil/xgboost_model.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/status.h"

struct SonicBackendModel {
  std::unique_ptr<sonic::backends::fil::FilModel> model;
};

struct SonicBackendInstance {
  std::unique_ptr<sonic::backends::fil::FilInstance> instance;
};

namespace sonic::backends::fil {
namespace {

SonicBackendError* ModelCreate(const SonicBackendModelSpec* spec, SonicBackendModel** model) {
  return GuardedCall("fil model_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<FilModel> created, FilModel::Create(*spec));
    *model = new SonicBackendModel{std::move(created)};
    return absl::OkStatus();
  });
}

void ModelDestroy(SonicBackendModel* model) { delete model; }

SonicBackendError* InstanceCreate(SonicBackendModel* model, const SonicBackendInstanceSpec* spec,
                                  SonicBackendInstance** instance) {
  return GuardedCall("fil instance_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<FilInstance> created,
                           model->model->CreateInstance(*spec));
    *instance = new SonicBackendInstance{std::move(created)};
    return absl::OkStatus();
  });
}

void InstanceDestroy(SonicBackendInstance* instance) { delete instance; }

SonicBackendError* InstanceExecute(SonicBackendInstance* instance, const SonicBackendTensor* inputs,
                                   uint32_t input_count, const char* const* output_names,
                                   uint32_t output_count, uint64_t /*batch_size*/,
                                   const SonicBackendOutputAllocator* allocator) {
  return GuardedCall("fil instance_execute", [&] {
    return instance->instance->Execute(std::span(inputs, input_count),
                                       std::span(output_names, output_count), *allocator);
  });
}

constexpr SonicBackendApi kFilApi = {
    .api_version = SONIC_BACKEND_API_VERSION,
    .name = "fil",
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
}  // namespace sonic::backends::fil

extern "C" __attribute__((visibility("default"))) const SonicBackendApi* SonicBackendGetApi() {
  return &sonic::backends::fil::kFilApi;
}
