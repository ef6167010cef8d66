#include "server/backend/backend_model.h"

#include <cassert>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

// The type of an output a backend asks memory for, or nullopt when the request cannot be right
// (unknown type, no name, a byte size that does not match a fixed-size type's shape).
std::optional<DataType> CheckedOutputType(const char* name, int32_t data_type, const int64_t* shape,
                                          uint32_t rank, uint64_t byte_size) {
  std::optional<DataType> type = DataTypeFromNumber(data_type);
  if (name == nullptr || !type.has_value() || *type == DataType::kInvalid ||
      (shape == nullptr && rank > 0)) {
    return std::nullopt;
  }
  if (ElementSize(*type) > 0) {
    absl::StatusOr<int64_t> count = ElementCount(std::span<const int64_t>(shape, rank));
    if (!count.ok() ||
        static_cast<uint64_t>(*count) > std::numeric_limits<uint64_t>::max() / ElementSize(*type) ||
        static_cast<uint64_t>(*count) * ElementSize(*type) != byte_size) {
      return std::nullopt;
    }
  }
  return type;
}

// The C allocator's callback: adapts OutputAllocator and refuses what cannot be right.
void* AllocateTrampoline(void* context, const char* name, int32_t data_type, const int64_t* shape,
                         uint32_t rank, uint64_t byte_size) noexcept {
  std::optional<DataType> type = CheckedOutputType(name, data_type, shape, rank, byte_size);
  if (!type.has_value()) return nullptr;
  return static_cast<OutputAllocator*>(context)->Allocate(
      name, *type, std::span<const int64_t>(shape, rank), byte_size);
}

// The C responder's callbacks: adapt RequestResponder.
struct ResponderContext {
  RequestResponder* responder;
  size_t request_count;
};

void* AllocateForRequest(void* context, uint32_t request_index, const char* name, int32_t data_type,
                         const int64_t* shape, uint32_t rank, uint64_t byte_size) noexcept {
  auto* c = static_cast<ResponderContext*>(context);
  if (request_index >= c->request_count) return nullptr;
  std::optional<DataType> type = CheckedOutputType(name, data_type, shape, rank, byte_size);
  if (!type.has_value()) {
    c->responder->Fail(request_index,
                       absl::InternalError(absl::StrCat(
                           "the backend asked memory for output '", name == nullptr ? "" : name,
                           "' with an invalid type, shape or byte size")));
    return nullptr;
  }
  return c->responder->Allocate(request_index, name, *type, std::span<const int64_t>(shape, rank),
                                byte_size);
}

void FailRequest(void* context, uint32_t request_index, int32_t code,
                 const char* message) noexcept {
  auto* c = static_cast<ResponderContext*>(context);
  if (request_index >= c->request_count) return;
  // OK (0) would claim success and codes outside absl's range mean nothing: both INTERNAL.
  const bool known = code > 0 && code <= static_cast<int32_t>(absl::StatusCode::kUnauthenticated);
  c->responder->Fail(request_index, absl::Status(known ? static_cast<absl::StatusCode>(code)
                                                       : absl::StatusCode::kInternal,
                                                 message == nullptr ? "" : message));
}

struct RequestApiRecord {
  absl::Mutex mutex;
  absl::flat_hash_map<const SonicBackendApi*, const SonicBackendRequestApi*> tables
      ABSL_GUARDED_BY(mutex);
};

RequestApiRecord& RequestApis() {
  static RequestApiRecord* record = new RequestApiRecord;  // never destroyed: used at exit
  return *record;
}

}  // namespace

void RegisterRequestApi(const SonicBackendApi* api, const SonicBackendRequestApi* request_api) {
  RequestApiRecord& record = RequestApis();
  absl::MutexLock lock(&record.mutex);
  record.tables[api] = request_api;
}

const SonicBackendRequestApi* FindRequestApi(const SonicBackendApi* api) {
  RequestApiRecord& record = RequestApis();
  absl::MutexLock lock(&record.mutex);
  auto it = record.tables.find(api);
  return it == record.tables.end() ? nullptr : it->second;
}

absl::Status ConsumeBackendError(const SonicBackendApi& api, SonicBackendError* error) {
  if (error == nullptr) return absl::OkStatus();
  int32_t code = api.error_code(error);
  const char* message = api.error_message(error);
  absl::Status status(code > 0 && code <= static_cast<int32_t>(absl::StatusCode::kUnauthenticated)
                          ? static_cast<absl::StatusCode>(code)
                          : absl::StatusCode::kInternal,
                      message == nullptr ? "" : message);
  api.error_delete(error);
  return status;
}

BackendModel::BackendModel(const SonicBackendApi* api, SonicBackendModel* handle, std::string name,
                           int64_t version)
    : api_(api),
      request_api_(FindRequestApi(api)),
      handle_(handle),
      name_(std::move(name)),
      version_(version) {}

absl::StatusOr<std::unique_ptr<BackendModel>> BackendModel::Create(
    const SonicBackendApi* api, std::string name, int64_t version,
    const std::filesystem::path& version_path, const inference::ModelConfig& config,
    const BackendSettings& settings) {
  if (api == nullptr) return absl::InvalidArgumentError("BackendModel::Create: no backend table");
  const std::string serialized = config.SerializeAsString();
  const std::string path = version_path.string();
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : settings) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  const SonicBackendModelSpec spec = {
      .name = name.c_str(),
      .version = version,
      .version_path = path.c_str(),
      .config = serialized.data(),
      .config_size = serialized.size(),
      .backend_config_keys = keys.data(),
      .backend_config_values = values.data(),
      .backend_config_count = static_cast<uint32_t>(keys.size()),
  };
  SonicBackendModel* handle = nullptr;
  SONIC_RETURN_IF_ERROR(Annotate(ConsumeBackendError(*api, api->model_create(&spec, &handle)),
                                 absl::StrCat("model '", name, "' version ", version)));
  if (handle == nullptr) {
    return absl::InternalError(absl::StrCat("model '", name, "' version ", version, ": backend '",
                                            api->name, "' reported success but made no model"));
  }
  return std::unique_ptr<BackendModel>(new BackendModel(api, handle, std::move(name), version));
}

BackendModel::~BackendModel() {
  assert(live_instances_.load() == 0 && "a BackendInstance outlived its BackendModel");
  api_->model_destroy(handle_);
}

BackendInstance::BackendInstance(BackendModel& model, SonicBackendInstance* handle,
                                 std::string name)
    : model_(model), handle_(handle), name_(std::move(name)) {
  model_.live_instances_.fetch_add(1);
}

absl::StatusOr<std::unique_ptr<BackendInstance>> BackendInstance::Create(
    BackendModel& model, std::string name, SonicBackendInstanceKind kind, int32_t device_id) {
  const SonicBackendApi& api = model.api();
  const SonicBackendInstanceSpec spec = {
      .name = name.c_str(),
      .kind = kind,
      .device_id = device_id,
  };
  SonicBackendInstance* handle = nullptr;
  SONIC_RETURN_IF_ERROR(
      Annotate(ConsumeBackendError(api, api.instance_create(model.handle(), &spec, &handle)),
               absl::StrCat("instance '", name, "' of model '", model.name(), "'")));
  if (handle == nullptr) {
    return absl::InternalError(absl::StrCat("instance '", name, "' of model '", model.name(),
                                            "': backend reported success but made no instance"));
  }
  return std::unique_ptr<BackendInstance>(new BackendInstance(model, handle, std::move(name)));
}

BackendInstance::~BackendInstance() {
  model_.api().instance_destroy(handle_);
  model_.live_instances_.fetch_sub(1);
}

absl::Status BackendInstance::Execute(std::span<const SonicBackendTensor> inputs,
                                      std::span<const char* const> output_names,
                                      uint64_t batch_size, OutputAllocator& allocator) {
  if (inputs.size() > std::numeric_limits<uint32_t>::max() ||
      output_names.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("too many tensors for one execution");
  }
  const SonicBackendOutputAllocator c_allocator = {
      .context = &allocator,
      .allocate = &AllocateTrampoline,
  };
  const SonicBackendApi& api = model_.api();
  return ConsumeBackendError(
      api, api.instance_execute(handle_, inputs.data(), static_cast<uint32_t>(inputs.size()),
                                output_names.data(), static_cast<uint32_t>(output_names.size()),
                                batch_size, &c_allocator));
}

absl::Status BackendInstance::ExecuteRequests(std::span<const SonicBackendRequest> requests,
                                              RequestResponder& responder) {
  if (requests.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("too many requests for one execution");
  }
  ResponderContext context{&responder, requests.size()};
  const SonicBackendResponder c_responder = {
      .context = &context,
      .allocate = &AllocateForRequest,
      .fail = &FailRequest,
  };
  const SonicBackendApi& api = model_.api();
  return ConsumeBackendError(
      api, model_.request_api_->instance_execute_requests(
               handle_, requests.data(), static_cast<uint32_t>(requests.size()), &c_responder));
}

}  // namespace sonic::server
