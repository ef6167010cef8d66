// absl::Status -> grpc::Status, the only place the two meet (the codes share their numbers).
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>

#include "absl/status/status.h"
#include "sonic/common/status.h"

namespace sonic::server {

// An error travels in the call's trailers, which gRPC clients refuse past 8 KiB by default
// (the call then fails RESOURCE_EXHAUSTED and the real error is lost): longer messages are cut.
inline constexpr size_t kMaxGrpcErrorMessageBytes = 4096;

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      sonic::Truncated({status.message().data(), status.message().size()},
                                       kMaxGrpcErrorMessageBytes));
}

}  // namespace sonic::server
