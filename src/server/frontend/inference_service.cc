#include "server/frontend/inference_service.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "server/core/clock.h"
#include "server/cuda/cuda_devices.h"
#include "server/cuda/cuda_ipc_region.h"
#include "server/frontend/grpc_status.h"
#include "server/frontend/infer_request_parser.h"
#include "server/frontend/infer_response_builder.h"
#include "server/frontend/model_metadata.h"
#include "server/frontend/stream_infer_reactor.h"

namespace sonic::server {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Model load/unload can take seconds (reading weights) and draining waits for in-flight
// requests: it runs on its own thread so gRPC's callback threads never block on it.
template <typename Fn>
grpc::ServerUnaryReactor* FinishLater(grpc::CallbackServerContext* context, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::thread([reactor, fn = std::move(fn)]() mutable { reactor->Finish(ToGrpcStatus(fn())); })
      .detach();
  return reactor;
}

absl::StatusOr<std::optional<std::string>> ConfigOverride(
    const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters) {
  std::optional<std::string> config;
  for (const auto& [key, value] : parameters) {
    if (key == "config") {
      if (value.parameter_choice_case() != inference::ModelRepositoryParameter::kStringParam) {
        return absl::InvalidArgumentError("load parameter 'config' must be a string (JSON)");
      }
      config = value.string_param();
    } else if (key.starts_with("file:")) {
      return absl::UnimplementedError("load parameter '" + key +
                                      "': model files in the load request are not supported");
    } else {
      return absl::InvalidArgumentError("unknown load parameter '" + key + "'");
    }
  }
  return config;
}

}  // namespace

void StartInference(ModelManager& manager, const SharedMemoryManager& regions,
                    const inference::ModelInferRequest& message,
                    absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&> done) {
  const uint64_t arrival_ns = SystemClock::Get().NowNs();
  absl::StatusOr<std::shared_ptr<ModelVersion>> model =
      manager.Get(message.model_name(), message.model_version());
  if (!model.ok()) {
    std::move(done)(model.status());
    return;
  }
  auto request = std::make_unique<InferenceRequest>();
  std::vector<SharedMemoryOutput> shm_outputs;
  absl::Status parsed =
      ParseInferRequest(message, (*model)->config(), regions, *request, shm_outputs);
  if (!parsed.ok()) {
    std::move(done)(parsed);
    return;
  }
  request->model = *model;
  request->arrival_ns = arrival_ns;
  if (shm_outputs.empty()) {
    request->on_complete = std::move(done);
  } else {
    request->on_complete = [shm_outputs = std::move(shm_outputs), done = std::move(done)](
                               absl::StatusOr<InferenceResponse> result) mutable {
      if (result.ok()) {
        absl::Status written = WriteSharedMemoryOutputs(shm_outputs, *result);
        if (!written.ok()) result = written;
      }
      std::move(done)(std::move(result));
    };
  }
  (*model)->Enqueue(std::move(request));
}

const std::vector<std::string>& InferenceService::Extensions() {
  static const std::vector<std::string> extensions = [] {
    std::vector<std::string> list = {"model_repository", "model_configuration", "schedule_policy",
                                     "statistics", "system_shared_memory"};
    if (CudaSupportBuilt()) list.push_back("cuda_shared_memory");
    return list;
  }();
  return extensions;
}

InferenceService::Unary* InferenceService::ServerLive(Context* context,
                                                      const inference::ServerLiveRequest*,
                                                      inference::ServerLiveResponse* response) {
  response->set_live(true);
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ServerReady(Context* context,
                                                       const inference::ServerReadyRequest*,
                                                       inference::ServerReadyResponse* response) {
  response->set_ready(ready());
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelReady(Context* context,
                                                      const inference::ModelReadyRequest* request,
                                                      inference::ModelReadyResponse* response) {
  response->set_ready(ready() && manager_.Get(request->name(), request->version()).ok());
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ServerMetadata(
    Context* context, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  response->set_name(info_.name);
  response->set_version(info_.version);
  for (const std::string& extension : Extensions()) response->add_extensions(extension);
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelMetadata(
    Context* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  auto model = manager_.Get(request->name(), request->version());
  if (!model.ok()) return Finish(context, model.status());
  std::vector<int64_t> versions = request->version().empty()
                                      ? manager_.ReadyVersions(request->name())
                                      : std::vector<int64_t>{(*model)->version()};
  BuildModelMetadata((*model)->config(), versions, *response);
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelConfig(Context* context,
                                                       const inference::ModelConfigRequest* request,
                                                       inference::ModelConfigResponse* response) {
  auto model = manager_.Get(request->name(), request->version());
  if (!model.ok()) return Finish(context, model.status());
  *response->mutable_config() = (*model)->config();
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelStatistics(
    Context* context, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  std::vector<std::shared_ptr<ModelVersion>> models;
  if (request->name().empty()) {
    models = manager_.ReadyModels();
  } else {
    auto model = manager_.Get(request->name(), request->version());
    if (!model.ok()) return Finish(context, model.status());
    models.push_back(*model);
  }
  for (const auto& model : models) {
    inference::ModelStatistics* stats = response->add_model_stats();
    stats->set_name(model->name());
    stats->set_version(std::to_string(model->version()));
    model->stats().FillProto(*stats);
  }
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::RepositoryIndex(
    Context* context, const inference::RepositoryIndexRequest* request,
    inference::RepositoryIndexResponse* response) {
  for (const ModelIndexEntry& entry : manager_.Index()) {
    if (request->ready() && entry.state != ModelState::kReady) continue;
    auto* model = response->add_models();
    model->set_name(entry.name);
    if (entry.version) model->set_version(std::to_string(*entry.version));
    if (entry.state) model->set_state(std::string(ModelStateName(*entry.state)));
    model->set_reason(entry.reason);
  }
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::RepositoryModelLoad(
    Context* context, const inference::RepositoryModelLoadRequest* request,
    inference::RepositoryModelLoadResponse*) {
  if (manager_.mode() != ModelControlMode::kExplicit) {
    return Finish(context, absl::FailedPreconditionError(
                               "explicit model load / unload needs --model-control-mode=explicit"));
  }
  absl::StatusOr<std::optional<std::string>> config = ConfigOverride(request->parameters());
  if (!config.ok()) return Finish(context, config.status());
  return FinishLater(context, [this, name = request->model_name(), config = *config] {
    return manager_.Load(name, config);
  });
}

InferenceService::Unary* InferenceService::RepositoryModelUnload(
    Context* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  if (manager_.mode() != ModelControlMode::kExplicit) {
    return Finish(context, absl::FailedPreconditionError(
                               "explicit model load / unload needs --model-control-mode=explicit"));
  }
  return FinishLater(context,
                     [this, name = request->model_name()] { return manager_.Unload(name); });
}

InferenceService::Unary* InferenceService::ModelInfer(Context* context,
                                                      const inference::ModelInferRequest* request,
                                                      inference::ModelInferResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  StartInference(manager_, shared_memory_, *request,
                 [reactor, response](absl::StatusOr<InferenceResponse> result) {
                   if (result.ok()) BuildInferResponse(*std::move(result), *response);
                   reactor->Finish(ToGrpcStatus(result.status()));
                 });
  return reactor;
}

grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
InferenceService::ModelStreamInfer(Context*) {
  return new StreamInferReactor(manager_, shared_memory_);
}

InferenceService::Unary* InferenceService::SystemSharedMemoryStatus(
    Context* context, const inference::SystemSharedMemoryStatusRequest* request,
    inference::SystemSharedMemoryStatusResponse* response) {
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> regions =
      shared_memory_.Status(SharedMemoryKind::kSystem, request->name());
  if (!regions.ok()) return Finish(context, regions.status());
  for (const SharedMemoryRegionStatus& region : *regions) {
    auto& entry = (*response->mutable_regions())[region.name];
    entry.set_name(region.name);
    entry.set_key(region.key);
    entry.set_offset(region.offset);
    entry.set_byte_size(region.byte_size);
  }
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::SystemSharedMemoryRegister(
    Context* context, const inference::SystemSharedMemoryRegisterRequest* request,
    inference::SystemSharedMemoryRegisterResponse*) {
  return Finish(context, shared_memory_.Register(request->name(), request->key(),
                                                 request->offset(), request->byte_size()));
}

InferenceService::Unary* InferenceService::SystemSharedMemoryUnregister(
    Context* context, const inference::SystemSharedMemoryUnregisterRequest* request,
    inference::SystemSharedMemoryUnregisterResponse*) {
  if (request->name().empty()) {
    shared_memory_.UnregisterAll(SharedMemoryKind::kSystem);
    return Finish(context, absl::OkStatus());
  }
  return Finish(context, shared_memory_.Unregister(SharedMemoryKind::kSystem, request->name()));
}

InferenceService::Unary* InferenceService::CudaSharedMemoryStatus(
    Context* context, const inference::CudaSharedMemoryStatusRequest* request,
    inference::CudaSharedMemoryStatusResponse* response) {
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> regions =
      shared_memory_.Status(SharedMemoryKind::kCuda, request->name());
  if (!regions.ok()) return Finish(context, regions.status());
  for (const SharedMemoryRegionStatus& region : *regions) {
    auto& entry = (*response->mutable_regions())[region.name];
    entry.set_name(region.name);
    entry.set_device_id(static_cast<uint64_t>(region.device_id));
    entry.set_byte_size(region.byte_size);
  }
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::CudaSharedMemoryRegister(
    Context* context, const inference::CudaSharedMemoryRegisterRequest* request,
    inference::CudaSharedMemoryRegisterResponse*) {
  return Finish(context, shared_memory_.Register(request->name(), [request] {
    return OpenCudaIpcRegion(request->name(), request->raw_handle(), request->device_id(),
                             request->byte_size());
  }));
}

InferenceService::Unary* InferenceService::CudaSharedMemoryUnregister(
    Context* context, const inference::CudaSharedMemoryUnregisterRequest* request,
    inference::CudaSharedMemoryUnregisterResponse*) {
  if (request->name().empty()) {
    shared_memory_.UnregisterAll(SharedMemoryKind::kCuda);
    return Finish(context, absl::OkStatus());
  }
  return Finish(context, shared_memory_.Unregister(SharedMemoryKind::kCuda, request->name()));
}

}  // namespace sonic::server
