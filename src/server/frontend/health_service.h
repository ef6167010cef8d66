// grpc.health.v1.Health/Check: SERVING while the server is ready; for a non-empty service name,
// SERVING when a model of that name is ready, SERVICE_UNKNOWN when no such model exists.
// Watch is not offered (UNIMPLEMENTED). Thread-safe; borrows what it reads.
#pragma once

#include "grpc/health/v1/health.grpc.pb.h"
#include "server/core/model_manager.h"
#include "server/frontend/inference_service.h"

namespace sonic::server {

class HealthService final {
 public:
  HealthService(const ModelManager& manager, const InferenceService& inference)
      : manager_(manager), inference_(inference) {}

  // Adds Check to `methods` (async_rpc.h); Watch, not there, is UNIMPLEMENTED.
  void Register(RpcMethods& methods);

  UnaryReactor* Check(RpcContext* context, const grpc::health::v1::HealthCheckRequest* request,
                      grpc::health::v1::HealthCheckResponse* response);

 private:
  const ModelManager& manager_;
  const InferenceService& inference_;
};

}  // namespace sonic::server
