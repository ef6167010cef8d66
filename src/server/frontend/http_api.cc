#include "server/frontend/http_api.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/core/clock.h"
#include "server/core/retry_delay.h"
#include "server/cuda/cuda_ipc_region.h"
#include "server/frontend/http_infer_codec.h"
#include "server/frontend/http_message_json.h"
#include "server/frontend/infer_response_builder.h"
#include "server/frontend/model_metadata.h"

namespace sonic::server {
namespace {

using nlohmann::json;

HttpResponse Error(const absl::Status& status) {
  HttpResponse response = HttpError(HttpStatusOf(status.code()), std::string(status.message()));
  // Retry-After counts whole seconds: a delay of 1 ms is 1 s.
  if (std::optional<uint64_t> delay_ms = RetryDelayMs(status)) {
    response.retry_after_s = (*delay_ms + 999) / 1000;
  }
  return response;
}

HttpResponse Json(const json& value) {
  HttpResponse response;
  response.body = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

HttpResponse Empty(int status) {
  HttpResponse response;
  response.status = status;
  return response;
}

HttpResponse MessageJson(const google::protobuf::Message& message) {
  absl::StatusOr<std::string> text = MessageToTritonJson(message);
  if (!text.ok()) return Error(text.status());
  HttpResponse response;
  response.body = *std::move(text);
  return response;
}

// The body as a JSON object; an empty body is an empty object.
absl::StatusOr<json> ObjectBody(const HttpRequest& request) {
  if (request.body.empty()) return json::object();
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return absl::InvalidArgumentError("the request body must be a JSON object");
  }
  return body;
}

// An optional unsigned integer field; INVALID_ARGUMENT when present with another type.
absl::StatusOr<std::optional<uint64_t>> UnsignedField(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) return std::nullopt;
  if (!it->is_number_unsigned()) {
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' must be a non-negative integer"));
  }
  return it->get<uint64_t>();
}

// The `config` and `file:<version>/<name>` load parameters (files base64 in JSON), as the gRPC
// RepositoryModelLoad reads them.
struct LoadOverride {
  std::optional<std::string> config;
  std::map<std::string, std::string> files;
};

absl::StatusOr<LoadOverride> ReadLoadOverride(const json& body) {
  LoadOverride result;
  auto parameters = body.find("parameters");
  if (parameters == body.end()) return result;
  if (!parameters->is_object()) return absl::InvalidArgumentError("'parameters' must be an object");
  for (const auto& [key, value] : parameters->items()) {
    if (key == "config") {
      if (!value.is_string()) {
        return absl::InvalidArgumentError("load parameter 'config' must be a string (JSON)");
      }
      result.config = value.get<std::string>();
    } else if (key.starts_with("file:")) {
      std::string bytes;
      if (!value.is_string() || !absl::Base64Unescape(value.get<std::string>(), &bytes)) {
        return absl::InvalidArgumentError("load parameter '" + key + "' must be base64 text");
      }
      result.files[key.substr(5)] = std::move(bytes);
    } else {
      return absl::InvalidArgumentError("unknown load parameter '" + key + "'");
    }
  }
  return result;
}

absl::Status ExplicitMode(const ModelManager& manager) {
  if (manager.mode() == ModelControlMode::kExplicit) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "explicit model load / unload needs --model-control-mode=explicit");
}

json RegionJson(const SharedMemoryRegionStatus& region) {
  if (region.kind == SharedMemoryKind::kCuda) {
    return {{"name", region.name}, {"device_id", region.device_id}, {"byte_size", region.byte_size}};
  }
  return {{"name", region.name},
          {"key", region.key},
          {"offset", region.offset},
          {"byte_size", region.byte_size}};
}

// The HTTP response to one inference's result.
HttpResponse InferResponse(absl::StatusOr<InferenceResponse> result,
                           const HttpOutputFormat& format) {
  if (!result.ok()) return Error(result.status());
  HttpBody body = BuildHttpInferResponse(*std::move(result), format);
  HttpResponse response;
  response.body = std::move(body.data);
  response.header_length = body.header_length;
  if (body.header_length) response.content_type = "application/octet-stream";
  return response;
}

// The result of one inference, handed from the completing thread to the waiting handler.
struct PendingInference {
  absl::Notification done;
  absl::StatusOr<InferenceResponse> result = absl::InternalError("no result");
};

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kInternal: return 500;
    case absl::StatusCode::kUnimplemented: return 501;
    default: return 400;
  }
}

HttpApi::HttpApi(ModelManager& manager, SharedMemoryManager& shared_memory,
                 InferenceService::ServerInfo info)
    : manager_(manager), shared_memory_(shared_memory), info_(std::move(info)) {
  AddHealthAndMetadataRoutes();
  AddModelRoutes();
  AddRepositoryRoutes();
  AddSharedMemoryRoutes();
}

void HttpApi::AddHealthAndMetadataRoutes() {
  router_.Add("GET", "/v2/health/live", [](const HttpRequest&, const PathParams&) {
    return Empty(200);
  });
  router_.Add("GET", "/v2/health/ready", [this](const HttpRequest&, const PathParams&) {
    const bool ready =
        !shutting_down_ && (!info_.strict_readiness || manager_.AllModelsReady());
    return Empty(ready ? 200 : 400);
  });
  router_.Add("GET", "/v2", [this](const HttpRequest&, const PathParams&) {
    return ServerMetadata();
  });
  router_.Add("GET", "/v2/models/stats", [this](const HttpRequest&, const PathParams&) {
    return ModelStatistics("", "");
  });
}

void HttpApi::AddModelRoute(
    std::string method, std::string_view suffix,
    std::function<HttpResponse(const HttpRequest&, const std::string&, const std::string&)>
        handler) {
  router_.Add(method, absl::StrCat("/v2/models/{}", std::string(suffix)),
              [handler](const HttpRequest& request, const PathParams& params) {
                return handler(request, params[0], "");
              });
  router_.Add(method, absl::StrCat("/v2/models/{}/versions/{}", std::string(suffix)),
              [handler](const HttpRequest& request, const PathParams& params) {
                return handler(request, params[0], params[1]);
              });
}

void HttpApi::AddModelRoutes() {
  using Name = const std::string&;
  AddModelRoute("GET", "", [this](const HttpRequest&, Name name, Name version) {
    return ModelMetadata(name, version);
  });
  AddModelRoute("GET", "/ready", [this](const HttpRequest&, Name name, Name version) {
    return ModelReady(name, version);
  });
  AddModelRoute("GET", "/config", [this](const HttpRequest&, Name name, Name version) {
    return ModelConfig(name, version);
  });
  AddModelRoute("GET", "/stats", [this](const HttpRequest&, Name name, Name version) {
    return ModelStatistics(name, version);
  });
  AddModelRoute("POST", "/infer", [this](const HttpRequest& request, Name name, Name version) {
    return Infer(request, name, version);
  });
}

void HttpApi::AddRepositoryRoutes() {
  router_.Add("POST", "/v2/repository/index", [this](const HttpRequest& request, const PathParams&) {
    return RepositoryIndex(request);
  });
  router_.Add("POST", "/v2/repository/models/{}/load",
              [this](const HttpRequest& request, const PathParams& params) {
                return RepositoryLoad(request, params[0]);
              });
  router_.Add("POST", "/v2/repository/models/{}/unload",
              [this](const HttpRequest&, const PathParams& params) {
                return RepositoryUnload(params[0]);
              });
}

void HttpApi::AddSharedMemoryRoutes() {
  for (SharedMemoryKind kind : {SharedMemoryKind::kSystem, SharedMemoryKind::kCuda}) {
    const std::string base = kind == SharedMemoryKind::kSystem ? "/v2/systemsharedmemory"
                                                               : "/v2/cudasharedmemory";
    router_.Add("GET", base + "/status",
                [this, kind](const HttpRequest& request, const PathParams&) {
                  return SharedMemoryStatus(request, kind, "");
                });
    router_.Add("GET", base + "/region/{}/status",
                [this, kind](const HttpRequest& request, const PathParams& params) {
                  return SharedMemoryStatus(request, kind, params[0]);
                });
    router_.Add("POST", base + "/unregister",
                [this, kind](const HttpRequest& request, const PathParams&) {
                  return Unregister(request, kind, "");
                });
    router_.Add("POST", base + "/region/{}/unregister",
                [this, kind](const HttpRequest& request, const PathParams& params) {
                  return Unregister(request, kind, params[0]);
                });
    router_.Add("POST", base + "/region/{}/register",
                [this, kind](const HttpRequest& request, const PathParams& params) {
                  return kind == SharedMemoryKind::kSystem ? SystemRegister(request, params[0])
                                                           : CudaRegister(request, params[0]);
                });
  }
}

HttpResponse HttpApi::ServerMetadata() const {
  json extensions = InferenceService::Extensions();
  extensions.push_back("binary_tensor_data");
  return Json({{"name", info_.name}, {"version", info_.version}, {"extensions", extensions}});
}

HttpResponse HttpApi::ModelReady(const std::string& name, const std::string& version) const {
  return Empty(!shutting_down_ && manager_.Get(name, version).ok() ? 200 : 400);
}

HttpResponse HttpApi::ModelMetadata(const std::string& name, const std::string& version) const {
  auto model = manager_.Get(name, version);
  if (!model.ok()) return Error(model.status());
  std::vector<int64_t> versions =
      version.empty() ? manager_.ReadyVersions(name) : std::vector<int64_t>{(*model)->version()};
  inference::ModelMetadataResponse message;
  BuildModelMetadata((*model)->signature(), versions, message);
  json inputs = json::array(), outputs = json::array();
  for (const auto* list : {&message.inputs(), &message.outputs()}) {
    json& target = list == &message.inputs() ? inputs : outputs;
    for (const auto& tensor : *list) {
      target.push_back({{"name", tensor.name()},
                        {"datatype", tensor.datatype()},
                        {"shape", std::vector<int64_t>(tensor.shape().begin(), tensor.shape().end())}});
    }
  }
  return Json({{"name", message.name()},
               {"versions", std::vector<std::string>(message.versions().begin(),
                                                     message.versions().end())},
               {"platform", message.platform()},
               {"inputs", inputs},
               {"outputs", outputs}});
}

HttpResponse HttpApi::ModelConfig(const std::string& name, const std::string& version) const {
  auto model = manager_.Get(name, version);
  if (!model.ok()) return Error(model.status());
  return MessageJson((*model)->config());
}

HttpResponse HttpApi::ModelStatistics(const std::string& name, const std::string& version) const {
  std::vector<std::shared_ptr<ModelVersion>> models;
  if (name.empty()) {
    models = manager_.ReadyModels();
  } else {
    auto model = manager_.Get(name, version);
    if (!model.ok()) return Error(model.status());
    models.push_back(*model);
  }
  inference::ModelStatisticsResponse message;
  for (const auto& model : models) {
    inference::ModelStatistics* stats = message.add_model_stats();
    stats->set_name(model->name());
    stats->set_version(std::to_string(model->version()));
    model->stats().FillProto(*stats);
  }
  return MessageJson(message);
}

HttpResponse HttpApi::Infer(const HttpRequest& request, const std::string& name,
                            const std::string& version) const {
  // The transport hands over a request already read: its receive is one instant here.
  std::shared_ptr<Trace> trace = traces_ ? traces_->Sample(name) : nullptr;
  if (trace) {
    const uint64_t received_ns = SystemClock::Get().NowNs();
    trace->Record(kTraceHttpRecvStart, received_ns);
    trace->Record(kTraceHttpRecvEnd, received_ns);
  }
  inference::ModelInferRequest message;
  HttpOutputFormat format;
  absl::Status parsed = ParseHttpInferRequest(request.body, request.header_length, message, format);
  if (!parsed.ok()) return Error(parsed);
  message.set_model_name(name);
  message.set_model_version(version);
  // Shared with the completion, which may still be inside Notify when the wait returns.
  auto pending = std::make_shared<PendingInference>();
  const ClientRegions regions(shared_memory_,
                              SharedMemoryClient::FromAddress(request.remote_address));
  StartInference(manager_, regions, message,
                 [pending](absl::StatusOr<InferenceResponse> result) {
                   pending->result = std::move(result);
                   pending->done.Notify();
                 },
                 trace);
  pending->done.WaitForNotification();
  if (trace) trace->Record(kTraceHttpSendStart, SystemClock::Get().NowNs());
  // The response is built here; the transport sends it after this returns.
  HttpResponse response = InferResponse(std::move(pending->result), format);
  if (trace) trace->Record(kTraceHttpSendEnd, SystemClock::Get().NowNs());
  return response;
}

HttpResponse HttpApi::RepositoryIndex(const HttpRequest& request) const {
  absl::StatusOr<json> body = ObjectBody(request);
  if (!body.ok()) return Error(body.status());
  auto ready = body->find("ready");
  if (ready != body->end() && !ready->is_boolean()) {
    return Error(absl::InvalidArgumentError("'ready' must be a bool"));
  }
  const bool ready_only = ready != body->end() && ready->get<bool>();
  json index = json::array();
  for (const ModelIndexEntry& entry : manager_.Index()) {
    if (ready_only && entry.state != ModelState::kReady) continue;
    json model = {{"name", entry.name}};
    if (entry.version) model["version"] = std::to_string(*entry.version);
    if (entry.state) model["state"] = std::string(ModelStateName(*entry.state));
    if (!entry.reason.empty()) model["reason"] = entry.reason;
    index.push_back(std::move(model));
  }
  return Json(index);
}

HttpResponse HttpApi::RepositoryLoad(const HttpRequest& request, const std::string& name) const {
  if (absl::Status mode = ExplicitMode(manager_); !mode.ok()) return Error(mode);
  absl::StatusOr<json> body = ObjectBody(request);
  if (!body.ok()) return Error(body.status());
  absl::StatusOr<LoadOverride> override = ReadLoadOverride(*body);
  if (!override.ok()) return Error(override.status());
  absl::Status loaded = manager_.Load(name, override->config, override->files);
  return loaded.ok() ? Empty(200) : Error(loaded);
}

HttpResponse HttpApi::RepositoryUnload(const std::string& name) const {
  if (absl::Status mode = ExplicitMode(manager_); !mode.ok()) return Error(mode);
  absl::Status unloaded = manager_.Unload(name);
  return unloaded.ok() ? Empty(200) : Error(unloaded);
}

HttpResponse HttpApi::SharedMemoryStatus(const HttpRequest& request, SharedMemoryKind kind,
                                         const std::string& name) const {
  auto regions =
      shared_memory_.Status(SharedMemoryClient::FromAddress(request.remote_address), kind, name);
  if (!regions.ok()) return Error(regions.status());
  json list = json::array();
  for (const SharedMemoryRegionStatus& region : *regions) list.push_back(RegionJson(region));
  return Json(list);
}

HttpResponse HttpApi::SystemRegister(const HttpRequest& request, const std::string& name) const {
  absl::StatusOr<json> body = ObjectBody(request);
  if (!body.ok()) return Error(body.status());
  auto key = body->find("key");
  if (key == body->end() || !key->is_string()) {
    return Error(absl::InvalidArgumentError("'key' must be a string"));
  }
  absl::StatusOr<std::optional<uint64_t>> offset = UnsignedField(*body, "offset");
  absl::StatusOr<std::optional<uint64_t>> byte_size = UnsignedField(*body, "byte_size");
  if (!offset.ok()) return Error(offset.status());
  if (!byte_size.ok() || !*byte_size) {
    return Error(absl::InvalidArgumentError("'byte_size' must be a non-negative integer"));
  }
  absl::Status registered =
      shared_memory_.Register(SharedMemoryClient::FromAddress(request.remote_address), name,
                              key->get<std::string>(), offset->value_or(0), **byte_size);
  return registered.ok() ? Empty(200) : Error(registered);
}

HttpResponse HttpApi::CudaRegister(const HttpRequest& request, const std::string& name) const {
  absl::StatusOr<json> body = ObjectBody(request);
  if (!body.ok()) return Error(body.status());
  auto handle = body->find("raw_handle");
  if (handle == body->end() || !handle->is_object() || !handle->contains("b64") ||
      !(*handle)["b64"].is_string()) {
    return Error(absl::InvalidArgumentError("'raw_handle' must be {\"b64\": string}"));
  }
  std::string raw_handle;
  if (!absl::Base64Unescape((*handle)["b64"].get<std::string>(), &raw_handle)) {
    return Error(absl::InvalidArgumentError("'raw_handle.b64' is not base64"));
  }
  absl::StatusOr<std::optional<uint64_t>> device = UnsignedField(*body, "device_id");
  absl::StatusOr<std::optional<uint64_t>> byte_size = UnsignedField(*body, "byte_size");
  if (!device.ok() || !byte_size.ok() || !*byte_size) {
    return Error(absl::InvalidArgumentError(
        "'device_id' and 'byte_size' must be non-negative integers"));
  }
  const int64_t device_id = static_cast<int64_t>(device->value_or(0));
  absl::Status registered = shared_memory_.Register(
      SharedMemoryClient::FromAddress(request.remote_address), name,
      [&] { return OpenCudaIpcRegion(name, raw_handle, device_id, **byte_size); });
  return registered.ok() ? Empty(200) : Error(registered);
}

HttpResponse HttpApi::Unregister(const HttpRequest& request, SharedMemoryKind kind,
                                 const std::string& name) const {
  const SharedMemoryClient client = SharedMemoryClient::FromAddress(request.remote_address);
  if (name.empty()) {
    shared_memory_.UnregisterAll(client, kind);
    return Empty(200);
  }
  absl::Status unregistered = shared_memory_.Unregister(client, kind, name);
  return unregistered.ok() ? Empty(200) : Error(unregistered);
}

}  // namespace sonic::server
