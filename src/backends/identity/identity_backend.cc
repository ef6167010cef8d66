#include "backends/identity/identity_backend.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "backends/common/backend_error.h"
#include "backends/common/model_config_util.h"
#include "inference/model_config.pb.h"
#include "sonic/common/status.h"

// The opaque handle types of backend_api.h, as this backend defines them.
struct SonicBackendModel {
  std::string name;
  // Output i is a copy of input i.
  std::vector<std::string> output_names;
  std::vector<std::string> input_names;
  std::chrono::milliseconds execute_delay{0};
};

struct SonicBackendInstance {
  const SonicBackendModel* model;
};

namespace sonic::backends {
namespace {

constexpr int64_t kMaxDelayMs = 3'600'000;

absl::StatusOr<std::unique_ptr<SonicBackendModel>> CreateModel(const SonicBackendModelSpec& spec) {
  SONIC_ASSIGN_OR_RETURN(inference::ModelConfig config, ParseModelConfig(spec));
  auto model = std::make_unique<SonicBackendModel>();
  model->name = spec.name == nullptr ? "" : spec.name;
  if (config.output_size() != config.input_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity model '", model->name, "' has ", config.input_size(), " inputs and ",
        config.output_size(), " outputs; the identity backend needs one output per input"));
  }
  for (int i = 0; i < config.input_size(); ++i) {
    const inference::ModelInput& input = config.input(i);
    const inference::ModelOutput& output = config.output(i);
    if (static_cast<int32_t>(input.data_type()) != static_cast<int32_t>(output.data_type())) {
      return absl::InvalidArgumentError(
          absl::StrCat("identity model '", model->name, "': output '", output.name(), "' is ",
                       inference::DataType_Name(output.data_type()), " but the input it copies, '",
                       input.name(), "', is ", inference::DataType_Name(input.data_type())));
    }
    model->input_names.push_back(input.name());
    model->output_names.push_back(output.name());
  }
  SONIC_ASSIGN_OR_RETURN(int64_t delay_ms,
                         GetIntParameter(config, "execute_delay_ms", 0, 0, kMaxDelayMs));
  model->execute_delay = std::chrono::milliseconds(delay_ms);
  return model;
}

const SonicBackendTensor* FindInput(std::span<const SonicBackendTensor> inputs,
                                    std::string_view name) {
  for (const SonicBackendTensor& input : inputs) {
    if (input.name != nullptr && name == input.name) return &input;
  }
  return nullptr;
}

absl::Status CopyOutput(const SonicBackendModel& model, std::span<const SonicBackendTensor> inputs,
                        std::string_view output_name,
                        const SonicBackendOutputAllocator& allocator) {
  size_t index = 0;
  while (index < model.output_names.size() && model.output_names[index] != output_name) ++index;
  if (index == model.output_names.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identity model '", model.name, "' has no output '", std::string(output_name), "'"));
  }
  const SonicBackendTensor* input = FindInput(inputs, model.input_names[index]);
  if (input == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("identity model '", model.name, "': input '",
                                                   model.input_names[index], "' for output '",
                                                   std::string(output_name), "' was not provided"));
  }
  const std::string name(output_name);
  void* buffer = allocator.allocate(allocator.context, name.c_str(), input->data_type, input->shape,
                                    input->rank, input->byte_size);
  if (buffer == nullptr && input->byte_size > 0) {
    return absl::InternalError(absl::StrCat("identity model '", model.name,
                                            "': the server refused to allocate output '", name,
                                            "' (", input->byte_size, " bytes)"));
  }
  if (input->byte_size > 0) std::memcpy(buffer, input->data, input->byte_size);
  return absl::OkStatus();
}

absl::Status Execute(const SonicBackendInstance& instance, const SonicBackendTensor* inputs,
                     uint32_t input_count, const char* const* output_names, uint32_t output_count,
                     const SonicBackendOutputAllocator* allocator) {
  const SonicBackendModel& model = *instance.model;
  if (model.execute_delay.count() > 0) std::this_thread::sleep_for(model.execute_delay);
  std::span<const SonicBackendTensor> input_span(inputs, input_count);
  for (uint32_t i = 0; i < output_count; ++i) {
    SONIC_RETURN_IF_ERROR(CopyOutput(model, input_span, output_names[i], *allocator));
  }
  return absl::OkStatus();
}

SonicBackendError* ModelCreate(const SonicBackendModelSpec* spec, SonicBackendModel** model) {
  return GuardedCall("identity model_create", [&]() -> absl::Status {
    SONIC_ASSIGN_OR_RETURN(std::unique_ptr<SonicBackendModel> created, CreateModel(*spec));
    *model = created.release();
    return absl::OkStatus();
  });
}

void ModelDestroy(SonicBackendModel* model) { delete model; }

SonicBackendError* InstanceCreate(SonicBackendModel* model, const SonicBackendInstanceSpec* spec,
                                  SonicBackendInstance** instance) {
  return GuardedCall("identity instance_create", [&]() -> absl::Status {
    if (spec->kind == SONIC_BACKEND_INSTANCE_GPU) {
      return absl::FailedPreconditionError(absl::StrCat(
          "identity instance '", spec->name == nullptr ? "" : spec->name, "': GPU ",
          spec->device_id, " requested but the identity backend runs on the CPU only"));
    }
    *instance = new SonicBackendInstance{model};
    return absl::OkStatus();
  });
}

void InstanceDestroy(SonicBackendInstance* instance) { delete instance; }

SonicBackendError* InstanceExecute(SonicBackendInstance* instance, const SonicBackendTensor* inputs,
                                   uint32_t input_count, const char* const* output_names,
                                   uint32_t output_count, uint64_t batch_size,
                                   const SonicBackendOutputAllocator* allocator) {
  return GuardedCall("identity instance_execute", [&] {
    return Execute(*instance, inputs, input_count, output_names, output_count, allocator);
  });
}

constexpr SonicBackendApi kIdentityApi = {
    .api_version = SONIC_BACKEND_API_VERSION,
    .name = "identity",
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

const SonicBackendApi* IdentityBackendApi() { return &kIdentityApi; }

}  // namespace sonic::backends
