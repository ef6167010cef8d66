#include "server/frontend/health_service.h"

namespace sonic::server {

using grpc::health::v1::HealthCheckResponse;

void HealthService::Register(RpcMethods& methods) {
  methods.AddUnary<grpc::health::v1::HealthCheckRequest, HealthCheckResponse>(
      "/grpc.health.v1.Health/Check",
      [this](RpcContext* context, const grpc::health::v1::HealthCheckRequest* request,
             HealthCheckResponse* response) { return Check(context, request, response); });
}

UnaryReactor* HealthService::Check(RpcContext* context,
                                   const grpc::health::v1::HealthCheckRequest* request,
                                   HealthCheckResponse* response) {
  HealthCheckResponse::ServingStatus status = HealthCheckResponse::NOT_SERVING;
  if (request->service().empty()) {
    if (inference_.ready()) status = HealthCheckResponse::SERVING;
  } else {
    absl::Status model = manager_.Get(request->service()).status();
    if (absl::IsNotFound(model)) {
      status = HealthCheckResponse::SERVICE_UNKNOWN;
    } else if (model.ok() && inference_.serving()) {
      status = HealthCheckResponse::SERVING;
    }
  }
  response->set_status(status);
  UnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace sonic::server
