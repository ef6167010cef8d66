// C++ owners of the objects of the C backend interface (backend_api.h): a loaded model version
// (BackendModel) and its execution contexts (BackendInstance). They turn backend errors into
// absl::Status with the backend's code and message, and destroy the backend objects on
// destruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/data_type.h"

namespace sonic::server {

// Converts a backend error into a status with the backend's code and message, and frees it with
// `api`'s error_delete (ownership is taken). nullptr gives OK. A code outside absl's range (or 0,
// which would claim success) becomes INTERNAL.
absl::Status ConsumeBackendError(const SonicBackendApi& api, SonicBackendError* error);

// Where a backend writes an output. Implemented by the server's request path, called back from
// inside BackendInstance::Execute on the executing thread.
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;

  // Returns a buffer of `byte_size` bytes for output `name` of the given type and shape (shape
  // includes the batch dimension), valid until Execute returns, or nullptr to refuse (the
  // backend then fails the execution). Must not throw. Called at most once per requested output.
  // For fixed-size types Execute has already checked that byte_size equals the element count of
  // `shape` times the element size.
  virtual void* Allocate(std::string_view name, DataType type, std::span<const int64_t> shape,
                         uint64_t byte_size) = 0;
};

// Where the responses of a batch executed request by request go (BackendInstance::
// ExecuteRequests). Called back on the executing thread; must not throw.
class RequestResponder {
 public:
  virtual ~RequestResponder() = default;

  // As OutputAllocator::Allocate, for the request at `request_index` of the batch (the shape
  // starts with that request's batch size). nullptr refuses and fails that request.
  virtual void* Allocate(size_t request_index, std::string_view name, DataType type,
                         std::span<const int64_t> shape, uint64_t byte_size) = 0;

  // Makes the request's response `error` (not OK) instead of its outputs.
  virtual void Fail(size_t request_index, absl::Status error) = 0;
};

// Records that the backend of table `api` also exports `request_api` (SonicBackendGetRequestApi):
// its models are then executed request by request. Both tables must live for the process (the
// registry's do: plugins are never unloaded). Thread-safe; a second call for `api` replaces the
// first. A separate process-wide record, so the main table and the signatures taking it stay as
// they are.
void RegisterRequestApi(const SonicBackendApi* api, const SonicBackendRequestApi* request_api);

// The table recorded for `api`, or nullptr. Thread-safe.
const SonicBackendRequestApi* FindRequestApi(const SonicBackendApi* api);

// --backend-config settings of one backend, in the order given.
using BackendSettings = std::vector<std::pair<std::string, std::string>>;

// One loaded version of one model inside a backend. Thread-safe for concurrent reads; every
// BackendInstance created from it must be destroyed before it (checked in debug builds).
class BackendModel {
 public:
  // Calls the backend's model_create with the serialized `config`. `api` must stay valid for the
  // model's life (the registry's tables do). Blocks while the backend loads its files. Errors are
  // the backend's (typically INVALID_ARGUMENT for bad model files, UNAVAILABLE for a transient
  // failure), with the model name and version prepended.
  // `settings` are the --backend-config key/value pairs for this model's backend.
  static absl::StatusOr<std::unique_ptr<BackendModel>> Create(
      const SonicBackendApi* api, std::string name, int64_t version,
      const std::filesystem::path& version_path, const inference::ModelConfig& config,
      const BackendSettings& settings = {});

  ~BackendModel();
  BackendModel(const BackendModel&) = delete;
  BackendModel& operator=(const BackendModel&) = delete;

  const SonicBackendApi& api() const { return *api_; }
  // The backend's request-by-request table (RegisterRequestApi), or nullptr.
  const SonicBackendRequestApi* request_api() const { return request_api_; }
  SonicBackendModel* handle() const { return handle_; }
  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }

 private:
  friend class BackendInstance;
  BackendModel(const SonicBackendApi* api, SonicBackendModel* handle, std::string name,
               int64_t version);

  const SonicBackendApi* const api_;
  const SonicBackendRequestApi* const request_api_;
  SonicBackendModel* const handle_;
  const std::string name_;
  const int64_t version_;
  std::atomic<int> live_instances_{0};
};

// One execution context of a model (a copy of the model with its own threads, on one device).
// Not thread-safe: the caller guarantees at most one Execute at a time per instance (the backend
// interface forbids concurrent calls on one instance); different instances may execute
// concurrently.
class BackendInstance {
 public:
  // Calls the backend's instance_create. `model` must outlive the instance. `name` is unique per
  // model (e.g. "mlp_0_1"); `device_id` is the GPU ordinal, -1 for CPU. Errors are the backend's,
  // with the instance name prepended (FAILED_PRECONDITION e.g. for a GPU the backend cannot use).
  static absl::StatusOr<std::unique_ptr<BackendInstance>> Create(BackendModel& model,
                                                                 std::string name,
                                                                 SonicBackendInstanceKind kind,
                                                                 int32_t device_id);

  ~BackendInstance();
  BackendInstance(const BackendInstance&) = delete;
  BackendInstance& operator=(const BackendInstance&) = delete;

  // Runs one batch: `inputs` (borrowed for the call; host memory, contiguous, 64-byte aligned)
  // produce `output_names`, each written into memory from `allocator`. Blocks until the backend
  // is done. Returns the backend's error unchanged (code and message), e.g. INVALID_ARGUMENT for
  // inputs the model rejects, INTERNAL for a model failure or a refused allocation.
  absl::Status Execute(std::span<const SonicBackendTensor> inputs,
                       std::span<const char* const> output_names, uint64_t batch_size,
                       OutputAllocator& allocator);

  // Whether the backend takes batches request by request (its SonicBackendRequestApi), in which
  // case the server calls ExecuteRequests instead of Execute.
  bool executes_requests() const { return model_.request_api_ != nullptr; }

  // Runs one batch handed over request by request (requires executes_requests()): each request's
  // outputs and errors go to `responder`. Blocks until the backend is done. An error returned
  // fails the whole batch (the backend's code and message, or INVALID_ARGUMENT for too many
  // requests); errors of single requests go to responder.Fail.
  absl::Status ExecuteRequests(std::span<const SonicBackendRequest> requests,
                               RequestResponder& responder);

  const std::string& name() const { return name_; }
  const BackendModel& model() const { return model_; }

 private:
  BackendInstance(BackendModel& model, SonicBackendInstance* handle, std::string name);

  BackendModel& model_;
  SonicBackendInstance* const handle_;
  const std::string name_;
};

}  // namespace sonic::server
