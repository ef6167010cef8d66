// The KServe v2 HTTP/REST API of sonic-server with Triton's extensions (health, metadata,
// config, statistics, inference with binary tensor data and shared memory, repository control,
// system and CUDA shared-memory registration), as routes over the same ModelManager and
// SharedMemoryManager as the gRPC service. Inference goes through StartInference, so that
// validation, errors and statistics are those of gRPC.
//
// Errors are {"error": message} with Triton's HTTP codes (HttpStatusOf). Handlers run on the
// transport's threads and block: an inference until its response is in (every request
// completes: the scheduler answers or refuses it), a load or unload until it is done.
//
// Thread-safe once constructed. Borrows the managers, which must outlive it.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "server/core/model_manager.h"
#include "server/frontend/http_access.h"
#include "server/frontend/http_router.h"
#include "server/frontend/inference_service.h"
#include "server/shm/shared_memory_manager.h"

namespace sonic::server {

// Triton's mapping: NOT_FOUND 404, UNAVAILABLE 503, INTERNAL 500, UNIMPLEMENTED 501, anything
// else 400.
int HttpStatusOf(absl::StatusCode code);

class HttpApi {
 public:
  HttpApi(ModelManager& manager, SharedMemoryManager& shared_memory,
          InferenceService::ServerInfo info);

  // Dispatches one request to its route, once the access policy (SetAccessPolicy) allows it.
  HttpResponse Handle(const HttpRequest& request) const {
    if (std::optional<HttpResponse> refused = RefuseHttpRequest(access_, request)) {
      return *std::move(refused);
    }
    return router_.Route(request);
  }

  // Who may call what (http_access.h); null: everyone everything. Borrowed; only before serving
  // starts.
  void SetAccessPolicy(const auth::AccessPolicy* access) { access_ = access; }

  // Adds a route (e.g. /v2/trace/setting, /v2/logging). Only before serving starts.
  void AddRoute(std::string method, std::string_view pattern, HttpHandler handler) {
    router_.Add(std::move(method), pattern, std::move(handler));
  }

  // Traces inference requests as `traces` samples them (HTTP_RECV_* and HTTP_SEND_* around the
  // core's timestamps). Borrows `traces`, which must outlive the API. Only before serving starts.
  void EnableTracing(TraceManager& traces) { traces_ = &traces; }

  // Once set, /v2/health/ready and model readiness answer 400 (shutdown has begun). Before,
  // the server is ready as gRPC's ServerReady says (info.strict_readiness).
  void SetShuttingDown() { shutting_down_ = true; }

 private:
  void AddHealthAndMetadataRoutes();
  void AddModelRoutes();
  void AddRepositoryRoutes();
  void AddSharedMemoryRoutes();
  // Adds `pattern` and its "/v2/models/{}/versions/{}..." twin for a handler of (name, version).
  void AddModelRoute(std::string method, std::string_view suffix,
                     std::function<HttpResponse(const HttpRequest&, const std::string& name,
                                                const std::string& version)> handler);

  HttpResponse ServerMetadata() const;
  HttpResponse ModelReady(const std::string& name, const std::string& version) const;
  HttpResponse ModelMetadata(const std::string& name, const std::string& version) const;
  HttpResponse ModelConfig(const std::string& name, const std::string& version) const;
  HttpResponse ModelStatistics(const std::string& name, const std::string& version) const;
  HttpResponse Infer(const HttpRequest& request, const std::string& name,
                     const std::string& version) const;
  HttpResponse RepositoryIndex(const HttpRequest& request) const;
  HttpResponse RepositoryLoad(const HttpRequest& request, const std::string& name) const;
  HttpResponse RepositoryUnload(const std::string& name) const;
  // Regions belong to the client's host (SharedMemoryClient::FromAddress).
  HttpResponse SharedMemoryStatus(const HttpRequest& request, SharedMemoryKind kind,
                                  const std::string& name) const;
  HttpResponse SystemRegister(const HttpRequest& request, const std::string& name) const;
  HttpResponse CudaRegister(const HttpRequest& request, const std::string& name) const;
  HttpResponse Unregister(const HttpRequest& request, SharedMemoryKind kind,
                          const std::string& name) const;

  ModelManager& manager_;
  SharedMemoryManager& shared_memory_;
  const InferenceService::ServerInfo info_;
  std::atomic<bool> shutting_down_{false};
  TraceManager* traces_ = nullptr;
  const auth::AccessPolicy* access_ = nullptr;
  HttpRouter router_;
};

}  // namespace sonic::server
