// absl::Status -> grpc::Status, the only place the two meet (the codes share their numbers).
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace sonic::server {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace sonic::server
