#include "server/frontend/inference_service.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/core/clock.h"
#include "server/core/retry_delay.h"
#include "server/cuda/cuda_devices.h"
#include "server/cuda/cuda_ipc_region.h"
#include "server/frontend/classification.h"
#include "server/frontend/grpc_status.h"
#include "server/frontend/infer_request_parser.h"
#include "server/frontend/infer_response_builder.h"
#include "server/frontend/model_metadata.h"
#include "server/frontend/stream_infer_reactor.h"
#include "server/logging/server_log.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

// A ModelInfer call: the request's bytes, alive until the inference is done (its tensors are
// read in place), and what finishing the call needs. The completion callback owns it through one
// pointer, which the callback keeps inline (no allocation of its own). The response is encoded
// without a message (EncodeInferResponse).
struct InferCall {
  // The request's wire bytes as one slice (a reference to gRPC's when it received one), which
  // the decoded view borrows; empty when protobuf parsed the request into `message`.
  grpc::Slice wire;
  std::unique_ptr<inference::ModelInferRequest> message;
  RpcContext* context = nullptr;
  UnaryReactor* reactor = nullptr;
  grpc::ByteBuffer* response_bytes = nullptr;
  std::shared_ptr<Trace> trace;

  // Views the request in `bytes`: decoded from the wire in place (DecodeInferRequest; a request
  // of several slices is joined once), or, for what the decoder leaves to protobuf, parsed into
  // `message`. False when protobuf cannot parse it either.
  bool Read(const grpc::ByteBuffer& bytes, InferRequestView& view) {
    if (bytes.TrySingleSlice(&wire).ok() || bytes.DumpToSingleSlice(&wire).ok()) {
      const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(wire.begin()),
                                            wire.size());
      if (DecodeInferRequest(data, view)) return true;
    }
    wire = grpc::Slice();
    message = std::make_unique<inference::ModelInferRequest>();
    if (!RpcMethods::Parse(bytes, *message)) return false;
    ViewMessage(*message, view);
    return true;
  }

  // Answers the call with `result`.
  void Finish(absl::StatusOr<InferenceResponse> result) {
    if (trace) trace->Record(kTraceGrpcSendStart, SystemClock::Get().NowNs());
    absl::Status status = result.status();
    if (result.ok()) status = EncodeInferResponse(*std::move(result), *response_bytes);
    // gRPC's name for a server's retry hint; clients with gRPC retries enabled obey it.
    if (std::optional<uint64_t> delay_ms = RetryDelayMs(status)) {
      context->AddTrailingMetadata("grpc-retry-pushback-ms", std::to_string(*delay_ms));
    }
    reactor->Finish(ToGrpcStatus(status));
    if (trace) trace->Record(kTraceGrpcSendEnd, SystemClock::Get().NowNs());
  }
};

UnaryReactor* Finish(RpcContext* context, const absl::Status& status) {
  UnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Model load/unload can take seconds (reading weights) and draining waits for in-flight
// requests: it runs on `executor` so gRPC's completion queues never wait on it, and a flood of
// such RPCs is refused (RESOURCE_EXHAUSTED) instead of starting a thread each.
template <typename Fn>
UnaryReactor* FinishLater(BoundedExecutor& executor, RpcContext* context, Fn fn) {
  UnaryReactor* reactor = context->DefaultReactor();
  absl::Status queued = executor.Submit(
      [reactor, fn = std::move(fn)]() mutable { reactor->Finish(ToGrpcStatus(fn())); });
  if (!queued.ok()) reactor->Finish(ToGrpcStatus(queued));
  return reactor;
}

// The `config` and `file:<version>/<name>` parameters of a load request.
struct LoadOverride {
  std::optional<std::string> config;
  std::map<std::string, std::string> files;
};

absl::StatusOr<LoadOverride> ReadLoadOverride(
    const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters) {
  LoadOverride result;
  for (const auto& [key, value] : parameters) {
    if (key == "config") {
      if (value.parameter_choice_case() != inference::ModelRepositoryParameter::kStringParam) {
        return absl::InvalidArgumentError("load parameter 'config' must be a string (JSON)");
      }
      result.config = value.string_param();
    } else if (key.starts_with("file:")) {
      if (value.parameter_choice_case() != inference::ModelRepositoryParameter::kBytesParam) {
        return absl::InvalidArgumentError("load parameter '" + key + "' must be bytes");
      }
      result.files[key.substr(5)] = value.bytes_param();
    } else {
      return absl::InvalidArgumentError("unknown load parameter '" + key + "'");
    }
  }
  return result;
}

// Each requested output's `classification` k (0: the tensor itself); empty when none asks.
std::vector<uint64_t> Classifications(const InferenceRequest& request) {
  std::vector<uint64_t> ks;
  if (std::all_of(request.outputs.begin(), request.outputs.end(),
                  [](const RequestedOutput& output) { return output.classification == 0; })) {
    return ks;
  }
  for (const RequestedOutput& output : request.outputs) ks.push_back(output.classification);
  return ks;
}

absl::Status ClassifyOutputs(const ModelVersion& model, const std::vector<uint64_t>& ks,
                             InferenceResponse& response) {
  for (size_t i = 0; i < ks.size() && i < response.outputs.size(); ++i) {
    if (ks[i] == 0) continue;
    OutputTensor& output = response.outputs[i];
    SONIC_RETURN_IF_ERROR(
        Classify(output, ks[i], model.config().max_batch_size() > 0, model.labels(output.name)));
  }
  return absl::OkStatus();
}

// A ModelStreamInfer call the access policy refused: finished at once with the refusal.
class RefusedStream final : public StreamReactor {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

void StartInference(ModelManager& manager, const ClientRegions& regions,
                    const InferRequestView& message,
                    absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&> done,
                    std::shared_ptr<Trace> trace, std::function<bool()> abandoned) {
  const uint64_t arrival_ns = SystemClock::Get().NowNs();
  if (VerboseEnabled(1)) {
    LogVerbose(1, absl::StrCat("infer request '", message.id, "' for model '", message.model_name,
                               "' version '", message.model_version, "'"));
  }
  absl::StatusOr<std::shared_ptr<ModelVersion>> model =
      manager.Get(std::string_view(message.model_name.data(), message.model_name.size()),
                  std::string_view(message.model_version.data(), message.model_version.size()));
  if (!model.ok()) {
    std::move(done)(model.status());
    return;
  }
  auto request = std::make_unique<InferenceRequest>();
  std::vector<SharedMemoryOutput> shm_outputs;
  absl::Status parsed =
      ParseInferRequest(message, (*model)->signature(), regions, *request, shm_outputs);
  if (!parsed.ok()) {
    std::move(done)(parsed);
    return;
  }
  request->model = *model;
  request->arrival_ns = arrival_ns;
  request->abandoned = std::move(abandoned);
  if (trace) {
    trace->SetRequest((*model)->version(), std::string(message.id));
    trace->Record(kTraceRequestStart, arrival_ns);
    request->trace = std::move(trace);
  }
  std::vector<uint64_t> classifications = Classifications(*request);
  if (shm_outputs.empty() && classifications.empty()) {
    request->on_complete = std::move(done);
  } else {
    request->on_complete = [model = *model, classifications = std::move(classifications),
                            shm_outputs = std::move(shm_outputs), done = std::move(done)](
                               absl::StatusOr<InferenceResponse> result) mutable {
      if (result.ok()) {
        absl::Status written = ClassifyOutputs(*model, classifications, *result);
        if (written.ok()) written = WriteSharedMemoryOutputs(shm_outputs, *result);
        if (!written.ok()) result = written;
      }
      std::move(done)(std::move(result));
    };
  }
  (*model)->Enqueue(std::move(request));
}

void StartInference(ModelManager& manager, const ClientRegions& regions,
                    const inference::ModelInferRequest& message,
                    absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&> done,
                    std::shared_ptr<Trace> trace, std::function<bool()> abandoned) {
  InferRequestView view;
  ViewMessage(message, view);
  StartInference(manager, regions, view, std::move(done), std::move(trace), std::move(abandoned));
}

const std::vector<std::string>& InferenceService::Extensions() {
  static const std::vector<std::string> extensions = [] {
    std::vector<std::string> list = {"model_repository", "model_configuration",  "schedule_policy",
                                     "statistics",       "system_shared_memory", "logging",
                                     "classification",   "parameters",           "trace"};
    if (CudaSupportBuilt()) list.push_back("cuda_shared_memory");
    return list;
  }();
  return extensions;
}

namespace {

// `method` of `service` as the unary method `name` of GRPCInferenceService.
template <typename Request, typename Response>
void AddMethod(RpcMethods& methods, InferenceService* service, const char* name,
               UnaryReactor* (InferenceService::*method)(RpcContext*, const Request*, Response*)) {
  methods.AddUnary<Request, Response>(
      absl::StrCat("/inference.GRPCInferenceService/", name),
      [service, method](RpcContext* context, const Request* request, Response* response) {
        return (service->*method)(context, request, response);
      });
}

}  // namespace

void InferenceService::Register(RpcMethods& methods) {
  AddMethod(methods, this, "ServerLive", &InferenceService::ServerLive);
  AddMethod(methods, this, "ServerReady", &InferenceService::ServerReady);
  AddMethod(methods, this, "ModelReady", &InferenceService::ModelReady);
  AddMethod(methods, this, "ServerMetadata", &InferenceService::ServerMetadata);
  AddMethod(methods, this, "ModelMetadata", &InferenceService::ModelMetadata);
  AddMethod(methods, this, "ModelConfig", &InferenceService::ModelConfig);
  AddMethod(methods, this, "ModelStatistics", &InferenceService::ModelStatistics);
  AddMethod(methods, this, "RepositoryIndex", &InferenceService::RepositoryIndex);
  AddMethod(methods, this, "RepositoryModelLoad", &InferenceService::RepositoryModelLoad);
  AddMethod(methods, this, "RepositoryModelUnload", &InferenceService::RepositoryModelUnload);
  AddMethod(methods, this, "SystemSharedMemoryStatus",
            &InferenceService::SystemSharedMemoryStatus);
  AddMethod(methods, this, "SystemSharedMemoryRegister",
            &InferenceService::SystemSharedMemoryRegister);
  AddMethod(methods, this, "SystemSharedMemoryUnregister",
            &InferenceService::SystemSharedMemoryUnregister);
  AddMethod(methods, this, "CudaSharedMemoryStatus", &InferenceService::CudaSharedMemoryStatus);
  AddMethod(methods, this, "CudaSharedMemoryRegister",
            &InferenceService::CudaSharedMemoryRegister);
  AddMethod(methods, this, "CudaSharedMemoryUnregister",
            &InferenceService::CudaSharedMemoryUnregister);
  AddMethod(methods, this, "LogSettings", &InferenceService::LogSettings);
  AddMethod(methods, this, "TraceSetting", &InferenceService::TraceSetting);
  methods.AddStream("/inference.GRPCInferenceService/ModelStreamInfer",
                    [this](RpcContext* context) { return ModelStreamInfer(context); });
}

RawUnaryService::Handler InferenceService::ModelInferHandler() {
  return [this](RpcContext* context, const grpc::ByteBuffer* request,
                grpc::ByteBuffer* response) { return ModelInfer(context, request, response); };
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
  response->set_ready(serving() && manager_.Get(request->name(), request->version()).ok());
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ServerMetadata(
    Context* context, const inference::ServerMetadataRequest*,
    inference::ServerMetadataResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kInference)) return refused;
  response->set_name(info_.name);
  response->set_version(info_.version);
  for (const std::string& extension : Extensions()) response->add_extensions(extension);
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelMetadata(
    Context* context, const inference::ModelMetadataRequest* request,
    inference::ModelMetadataResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kInference)) return refused;
  auto model = manager_.Get(request->name(), request->version());
  if (!model.ok()) return Finish(context, model.status());
  std::vector<int64_t> versions = request->version().empty()
                                      ? manager_.ReadyVersions(request->name())
                                      : std::vector<int64_t>{(*model)->version()};
  BuildModelMetadata((*model)->signature(), versions, *response);
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelConfig(Context* context,
                                                       const inference::ModelConfigRequest* request,
                                                       inference::ModelConfigResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kInference)) return refused;
  auto model = manager_.Get(request->name(), request->version());
  if (!model.ok()) return Finish(context, model.status());
  *response->mutable_config() = (*model)->config();
  return Finish(context, absl::OkStatus());
}

InferenceService::Unary* InferenceService::ModelStatistics(
    Context* context, const inference::ModelStatisticsRequest* request,
    inference::ModelStatisticsResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kStatistics)) return refused;
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
  if (Unary* refused = Refused(context, auth::AccessClass::kInference)) return refused;
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
  if (Unary* refused = RefusedRepositoryControl(context)) return refused;
  if (manager_.mode() != ModelControlMode::kExplicit) {
    return Finish(context, absl::FailedPreconditionError(
                               "explicit model load / unload needs --model-control-mode=explicit"));
  }
  absl::StatusOr<LoadOverride> override = ReadLoadOverride(request->parameters());
  if (!override.ok()) return Finish(context, override.status());
  return FinishLater(
      repository_requests_, context, [this, name = request->model_name(), override = *override] {
        absl::Status loaded = manager_.Load(name, override.config, override.files);
        if (loaded.ok()) {
          LogInfo("loaded model '" + name + "'");
        } else {
          LogError("cannot load model '" + name + "': " + std::string(loaded.message()));
        }
        return loaded;
      });
}

InferenceService::Unary* InferenceService::RepositoryModelUnload(
    Context* context, const inference::RepositoryModelUnloadRequest* request,
    inference::RepositoryModelUnloadResponse*) {
  if (Unary* refused = RefusedRepositoryControl(context)) return refused;
  if (manager_.mode() != ModelControlMode::kExplicit) {
    return Finish(context, absl::FailedPreconditionError(
                               "explicit model load / unload needs --model-control-mode=explicit"));
  }
  return FinishLater(repository_requests_, context, [this, name = request->model_name()] {
    absl::Status unloaded = manager_.Unload(name);
    if (unloaded.ok()) LogInfo("unloaded model '" + name + "'");
    return unloaded;
  });
}

InferenceService::Unary* InferenceService::ModelInfer(Context* context,
                                                      const grpc::ByteBuffer* request_bytes,
                                                      grpc::ByteBuffer* response_bytes) {
  if (Unary* refused = Refused(context, auth::AccessClass::kInference)) return refused;
  auto call = std::make_unique<InferCall>();
  InferRequestView request;
  if (!call->Read(*request_bytes, request)) {
    UnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(UnparsableRequestStatus(kModelInferMethod));
    return reactor;
  }
  UnaryReactor* reactor = context->DefaultReactor();
  call->context = context;
  call->reactor = reactor;
  call->response_bytes = response_bytes;
  // The call arrives with its request already read: its wait/read is one instant here.
  call->trace =
      traces_.Sample(std::string_view(request.model_name.data(), request.model_name.size()));
  if (call->trace) {
    const uint64_t received_ns = SystemClock::Get().NowNs();
    call->trace->Record(kTraceGrpcWaitReadStart, received_ns);
    call->trace->Record(kTraceGrpcWaitReadEnd, received_ns);
  }
  std::shared_ptr<Trace> trace = call->trace;
  StartInference(
      manager_, ClientRegions(shared_memory_, [this, context] { return ClientOf(context); }),
      request,
      [call = std::move(call)](absl::StatusOr<InferenceResponse> result) {
        call->Finish(std::move(result));
      },
      std::move(trace),
      // The context lives until Finish, which the request's completion calls.
      [context] {
        return context->IsCancelled() || context->deadline() < std::chrono::system_clock::now();
      });
  return reactor;
}

StreamReactor* InferenceService::ModelStreamInfer(Context* context) {
  if (access_ != nullptr) {
    absl::Status allowed = access_->Check(auth::AccessClass::kInference, CallerOf(context));
    if (!allowed.ok()) return new RefusedStream(ToGrpcStatus(allowed));
  }
  return new StreamInferReactor(manager_, ClientRegions(shared_memory_, ClientOf(context)),
                                {.traces = &traces_,
                                 .registry = &streams_,
                                 .max_responses = std::max<size_t>(max_stream_responses_, 1)});
}

auth::Caller InferenceService::CallerOf(Context* context) const {
  auth::Caller caller;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    caller.authorization = std::string_view(it->second.data(), it->second.size());
  }
  const std::string peer = context->peer();
  caller.local = auth::IsLoopbackGrpcPeer(peer) ||
                 (unix_peers_ != nullptr && unix_peers_->UidOf(peer).has_value());
  return caller;
}

InferenceService::Unary* InferenceService::Refused(Context* context,
                                                   auth::AccessClass access) const {
  if (access_ == nullptr || access_->OpenToAll(access)) return nullptr;
  absl::Status allowed = access_->Check(access, CallerOf(context));
  return allowed.ok() ? nullptr : Finish(context, allowed);
}

InferenceService::Unary* InferenceService::RefusedRepositoryControl(Context* context) const {
  if (access_ == nullptr) return nullptr;
  absl::Status allowed = access_->CheckRepositoryControl(CallerOf(context));
  return allowed.ok() ? nullptr : Finish(context, allowed);
}

SharedMemoryClient InferenceService::ClientOf(Context* context) const {
  const std::string peer = context->peer();
  if (unix_peers_ != nullptr) {
    if (std::optional<uint32_t> uid = unix_peers_->UidOf(peer)) {
      return SharedMemoryClient::FromUid(*uid);
    }
  }
  return SharedMemoryClient::FromGrpcPeer(peer);
}

InferenceService::Unary* InferenceService::SystemSharedMemoryStatus(
    Context* context, const inference::SystemSharedMemoryStatusRequest* request,
    inference::SystemSharedMemoryStatusResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kSharedMemory)) return refused;
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> regions =
      shared_memory_.Status(ClientOf(context), SharedMemoryKind::kSystem, request->name());
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
  if (Unary* refused = Refused(context, auth::AccessClass::kSharedMemory)) return refused;
  return Finish(context, shared_memory_.Register(ClientOf(context), request->name(),
                                                 request->key(), request->offset(),
                                                 request->byte_size()));
}

InferenceService::Unary* InferenceService::SystemSharedMemoryUnregister(
    Context* context, const inference::SystemSharedMemoryUnregisterRequest* request,
    inference::SystemSharedMemoryUnregisterResponse*) {
  if (Unary* refused = Refused(context, auth::AccessClass::kSharedMemory)) return refused;
  if (request->name().empty()) {
    shared_memory_.UnregisterAll(ClientOf(context), SharedMemoryKind::kSystem);
    return Finish(context, absl::OkStatus());
  }
  return Finish(context, shared_memory_.Unregister(ClientOf(context), SharedMemoryKind::kSystem,
                                                   request->name()));
}

InferenceService::Unary* InferenceService::CudaSharedMemoryStatus(
    Context* context, const inference::CudaSharedMemoryStatusRequest* request,
    inference::CudaSharedMemoryStatusResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kSharedMemory)) return refused;
  absl::StatusOr<std::vector<SharedMemoryRegionStatus>> regions =
      shared_memory_.Status(ClientOf(context), SharedMemoryKind::kCuda, request->name());
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
  if (Unary* refused = Refused(context, auth::AccessClass::kSharedMemory)) return refused;
  return Finish(context, shared_memory_.Register(ClientOf(context), request->name(), [request] {
    return OpenCudaIpcRegion(request->name(), request->raw_handle(), request->device_id(),
                             request->byte_size());
  }));
}

InferenceService::Unary* InferenceService::CudaSharedMemoryUnregister(
    Context* context, const inference::CudaSharedMemoryUnregisterRequest* request,
    inference::CudaSharedMemoryUnregisterResponse*) {
  if (Unary* refused = Refused(context, auth::AccessClass::kSharedMemory)) return refused;
  if (request->name().empty()) {
    shared_memory_.UnregisterAll(ClientOf(context), SharedMemoryKind::kCuda);
    return Finish(context, absl::OkStatus());
  }
  return Finish(context, shared_memory_.Unregister(ClientOf(context), SharedMemoryKind::kCuda,
                                                   request->name()));
}

InferenceService::Unary* InferenceService::LogSettings(Context* context,
                                                       const inference::LogSettingsRequest* request,
                                                       inference::LogSettingsResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kRepository)) return refused;
  using Value = inference::LogSettingsRequest::SettingValue;
  LogSettingsMap changes;
  for (const auto& [name, value] : request->settings()) {
    switch (value.parameter_choice_case()) {
      case Value::kBoolParam:
        changes[name] = value.bool_param();
        break;
      case Value::kUint32Param:
        changes[name] = value.uint32_param();
        break;
      case Value::kStringParam:
        changes[name] = value.string_param();
        break;
      default:
        return Finish(context,
                      absl::InvalidArgumentError("log setting '" + name + "' has no value"));
    }
  }
  ServerLog& log = ServerLog::Get();
  if (!changes.empty()) {
    absl::StatusOr<sonic::server::LogSettings> updated = UpdatedSettings(log.settings(), changes);
    if (!updated.ok()) return Finish(context, updated.status());
    if (absl::Status applied = log.Apply(*updated); !applied.ok()) {
      return Finish(context, applied);
    }
  }
  for (const auto& [name, value] : ToSettingsMap(log.settings())) {
    auto& out = (*response->mutable_settings())[name];
    if (const bool* flag = std::get_if<bool>(&value)) {
      out.set_bool_param(*flag);
    } else if (const uint32_t* number = std::get_if<uint32_t>(&value)) {
      out.set_uint32_param(*number);
    } else {
      out.set_string_param(std::get<std::string>(value));
    }
  }
  return Finish(context, absl::OkStatus());
}

absl::StatusOr<TraceSettingMap> TraceSettingsRequest(TraceManager& traces,
                                                     const ModelManager& models,
                                                     const std::string& model_name,
                                                     const TraceSettingMap& settings) {
  if (!model_name.empty() && !models.Get(model_name, "").ok()) {
    return absl::InvalidArgumentError("Request for unknown model : " + model_name);
  }
  if (settings.empty()) return traces.Get(model_name);
  return traces.Update(model_name, settings);
}

InferenceService::Unary* InferenceService::TraceSetting(
    Context* context, const inference::TraceSettingRequest* request,
    inference::TraceSettingResponse* response) {
  if (Unary* refused = Refused(context, auth::AccessClass::kRepository)) return refused;
  TraceSettingMap settings;
  for (const auto& [name, value] : request->settings()) {
    settings[name].assign(value.value().begin(), value.value().end());
  }
  absl::StatusOr<TraceSettingMap> in_effect =
      TraceSettingsRequest(traces_, manager_, request->model_name(), settings);
  if (!in_effect.ok()) return Finish(context, in_effect.status());
  for (const auto& [name, values] : *in_effect) {
    auto& out = (*response->mutable_settings())[name];
    for (const std::string& value : values) out.add_value(value);
  }
  return Finish(context, absl::OkStatus());
}

}  // namespace sonic::server
