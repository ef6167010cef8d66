// The KServe v2 / Triton GRPCInferenceService on top of the ModelManager, served by
// async_rpc.h: no handler blocks a completion-queue thread while a model runs; an inference
// finishes its RPC from the scheduler's worker when the result is ready.
//
// ModelInfer, the hot method, takes and gives raw bytes (ModelInferHandler): the service decodes
// the request in place (infer_request_view.h; protobuf parses what the decoder leaves) and encodes
// the response itself. The other methods take parsed messages (Register); a request that does not
// parse is answered INVALID_ARGUMENT (UnparsableRequestStatus), for every method.
//
// Thread-safe. Borrows the manager, which must outlive the service and every RPC it started.
#pragma once

#include <atomic>
#include <string>

#include "inference/grpc_service.grpc.pb.h"
#include "server/auth/access_policy.h"
#include "server/core/model_manager.h"
#include "server/frontend/async_rpc.h"
#include "server/frontend/bounded_executor.h"
#include "server/frontend/infer_request_view.h"
#include "server/frontend/unix_socket_listener.h"
#include "server/frontend/stream_infer_reactor.h"
#include "server/shm/shared_memory_manager.h"
#include "server/trace/trace_manager.h"

namespace sonic::server {

class InferenceService final {
 public:
  struct ServerInfo {
    std::string name = "sonic-server";  // tritonserver's --id
    std::string version;
    // Triton's --strict-readiness: the server is ready only while every model it tried to load
    // is READY (ModelManager::AllModelsReady); otherwise as soon as it serves.
    bool strict_readiness = true;
  };

  // Borrows `shared_memory`, the registry of client regions (shared with the HTTP endpoint:
  // one namespace), which must outlive the service. Borrows `traces` likewise (the server's
  // trace settings, shared with the HTTP endpoint); without one the service has its own, with
  // tracing off until a TraceSetting turns it on.
  // A ModelStreamInfer stream owes its client at most `max_stream_responses` responses
  // (StreamInferReactor).
  InferenceService(ModelManager& manager, ServerInfo info, SharedMemoryManager& shared_memory,
                   TraceManager* traces = nullptr, size_t max_stream_responses = 64)
      : manager_(manager),
        info_(info),
        shared_memory_(shared_memory),
        own_traces_(traces ? nullptr : std::make_unique<TraceManager>()),
        traces_(traces ? *traces : *own_traces_),
        max_stream_responses_(max_stream_responses) {}

  TraceManager& traces() { return traces_; }

  // Where to learn the uid of a peer on the server's Unix-domain socket (borrowed; null: none).
  // REQUIRES: called before the service serves.
  void SetUnixSocketPeers(const UnixSocketPeers* peers) { unix_peers_ = peers; }

  // Who may call what (server/auth/access_policy.h: each RPC's class is there); null: everyone
  // everything. Borrowed. REQUIRES: called before the service serves.
  void SetAccessPolicy(const auth::AccessPolicy* access) { access_ = access; }

  // Once set, ServerReady answers false (shutdown has begun); ServerLive stays true. Open
  // streams stop reading and finish once their running requests are answered (idle ones at
  // once), so they do not hold the shutdown.
  void SetShuttingDown() {
    shutting_down_ = true;
    streams_.CloseAll();
  }
  // Serving requests: not shutting down (what model readiness needs).
  bool serving() const { return !shutting_down_; }
  // ServerReady's answer: serving, and with strict readiness every model loaded READY.
  // Unmaps every registered shared-memory region (at server stop, once RPCs have finished;
  // requests still holding a region keep it until they end).
  void UnregisterAllSharedMemory() { shared_memory_.UnregisterAll(); }
  bool ready() const {
    return serving() && (!info_.strict_readiness || manager_.AllModelsReady());
  }

  // The extensions this server really implements (ServerMetadata.extensions);
  // cuda_shared_memory only in a build with CUDA.
  static const std::vector<std::string>& Extensions();

  // Adds every method but ModelInfer to `methods`.
  void Register(RpcMethods& methods);
  // ModelInfer, as a raw method of its own (async_rpc.h).
  static constexpr char kModelInferMethod[] = "/inference.GRPCInferenceService/ModelInfer";
  RawUnaryService::Handler ModelInferHandler();

 private:
  // The methods, as gRPC's callback API would have them.
  using Unary = UnaryReactor;
  using Context = RpcContext;

  Unary* ServerLive(Context*, const inference::ServerLiveRequest*,
                    inference::ServerLiveResponse*);
  Unary* ServerReady(Context*, const inference::ServerReadyRequest*,
                     inference::ServerReadyResponse*);
  Unary* ModelReady(Context*, const inference::ModelReadyRequest*,
                    inference::ModelReadyResponse*);
  Unary* ServerMetadata(Context*, const inference::ServerMetadataRequest*,
                        inference::ServerMetadataResponse*);
  Unary* ModelMetadata(Context*, const inference::ModelMetadataRequest*,
                       inference::ModelMetadataResponse*);
  Unary* ModelConfig(Context*, const inference::ModelConfigRequest*,
                     inference::ModelConfigResponse*);
  Unary* ModelStatistics(Context*, const inference::ModelStatisticsRequest*,
                         inference::ModelStatisticsResponse*);
  Unary* RepositoryIndex(Context*, const inference::RepositoryIndexRequest*,
                         inference::RepositoryIndexResponse*);
  Unary* RepositoryModelLoad(Context*, const inference::RepositoryModelLoadRequest*,
                             inference::RepositoryModelLoadResponse*);
  Unary* RepositoryModelUnload(Context*, const inference::RepositoryModelUnloadRequest*,
                               inference::RepositoryModelUnloadResponse*);
  Unary* ModelInfer(Context*, const grpc::ByteBuffer* request, grpc::ByteBuffer* response);
  StreamReactor* ModelStreamInfer(Context*);

  // Shared memory (docs/PROTOCOL.md "Shared memory"). System and CUDA regions share one
  // namespace; each RPC family sees its own kind. CUDA regions need a build with CUDA
  // (server/cuda/cuda_ipc_region.h): otherwise CudaSharedMemoryRegister answers UNIMPLEMENTED.
  Unary* SystemSharedMemoryStatus(Context*, const inference::SystemSharedMemoryStatusRequest*,
                                  inference::SystemSharedMemoryStatusResponse*);
  Unary* SystemSharedMemoryRegister(Context*, const inference::SystemSharedMemoryRegisterRequest*,
                                    inference::SystemSharedMemoryRegisterResponse*);
  Unary* SystemSharedMemoryUnregister(Context*,
                                      const inference::SystemSharedMemoryUnregisterRequest*,
                                      inference::SystemSharedMemoryUnregisterResponse*);
  Unary* CudaSharedMemoryStatus(Context*, const inference::CudaSharedMemoryStatusRequest*,
                                inference::CudaSharedMemoryStatusResponse*);
  Unary* CudaSharedMemoryRegister(Context*, const inference::CudaSharedMemoryRegisterRequest*,
                                  inference::CudaSharedMemoryRegisterResponse*);
  Unary* CudaSharedMemoryUnregister(Context*, const inference::CudaSharedMemoryUnregisterRequest*,
                                    inference::CudaSharedMemoryUnregisterResponse*);

  // The server's log settings by Triton's names (server/logging/server_log.h); an empty request
  // reads them. A bad setting is INVALID_ARGUMENT and changes nothing.
  Unary* LogSettings(Context*, const inference::LogSettingsRequest*,
                     inference::LogSettingsResponse*);

  // Triton's trace extension: TraceSettingsRequest below over gRPC.
  Unary* TraceSetting(Context*, const inference::TraceSettingRequest*,
                      inference::TraceSettingResponse*);

  // The caller as the shared-memory registry knows it: its uid on the Unix-domain socket, else
  // its host.
  SharedMemoryClient ClientOf(Context* context) const;
  // The caller as the access policy sees it: its `authorization` metadata, and whether it is
  // on loopback or the Unix-domain socket. Borrows from `context`.
  auth::Caller CallerOf(Context* context) const;
  // Null when the access policy lets the caller make a request of class `access`; otherwise the
  // call, finished with the refusal (UNAUTHENTICATED or PERMISSION_DENIED).
  Unary* Refused(Context* context, auth::AccessClass access) const;
  // The same for loading and unloading models (AccessPolicy::CheckRepositoryControl).
  Unary* RefusedRepositoryControl(Context* context) const;

  ModelManager& manager_;
  const ServerInfo info_;
  std::atomic<bool> shutting_down_{false};
  SharedMemoryManager& shared_memory_;
  const UnixSocketPeers* unix_peers_ = nullptr;
  const auth::AccessPolicy* access_ = nullptr;
  const std::unique_ptr<TraceManager> own_traces_;  // null when borrowed
  TraceManager& traces_;
  const size_t max_stream_responses_;
  StreamRegistry streams_;
  // RepositoryModelLoad / Unload run here. Declared last: destroyed first, once it has run every
  // load it accepted, while the manager it calls still exists.
  BoundedExecutor repository_requests_{
      {.what = "model load/unload requests", .threads = 4, .max_queued = 64}};
};

// Parses `message` against its model (tensors may live in the shared-memory `regions`) and
// queues it; `done` runs exactly once with the response or the error, shared-memory outputs
// already written into their regions (and empty in the response). Shared by the unary, the
// streaming and the HTTP request paths. `message` (of a view: what it borrows) must stay alive and
// unchanged until `done` has run.
// `trace`, when the frontend sampled the request (TraceManager::Sample), gets the request's
// model version and id and REQUEST_START; the core records the rest into it. The frontend keeps
// its own reference to add its receive and send timestamps.
// `abandoned`, when given, tells whether the client gave up (call cancelled, deadline passed):
// such a request leaves the queue without running (InferenceRequest::abandoned).
void StartInference(ModelManager& manager, const ClientRegions& regions,
                    const InferRequestView& message,
                    absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&> done,
                    std::shared_ptr<Trace> trace = nullptr,
                    std::function<bool()> abandoned = {});
void StartInference(ModelManager& manager, const ClientRegions& regions,
                    const inference::ModelInferRequest& message,
                    absl::AnyInvocable<void(absl::StatusOr<InferenceResponse>) &&> done,
                    std::shared_ptr<Trace> trace = nullptr,
                    std::function<bool()> abandoned = {});

// Triton's trace setting request, for any protocol (gRPC TraceSetting, HTTP
// GET|POST /v2[/models/M]/trace/setting): with no `settings` it reads, otherwise it updates (an
// empty value list clears that setting), the settings of `model_name` (the global ones when
// empty), and returns the settings in effect. Errors: INVALID_ARGUMENT "Request for unknown model"
// when the model is not loaded (Triton's), and TraceManager::Update's.
absl::StatusOr<TraceSettingMap> TraceSettingsRequest(TraceManager& traces,
                                                     const ModelManager& models,
                                                     const std::string& model_name,
                                                     const TraceSettingMap& settings);

}  // namespace sonic::server
