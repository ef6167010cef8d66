// Per-call helpers of the client side's gRPC calls: deadlines and the translation of gRPC
// statuses. Thread-safe (stateless).
#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sonic::transport {

// The full name of ModelInfer, for generic calls (which send serialized messages).
inline constexpr char kModelInferMethod[] = "/inference.GRPCInferenceService/ModelInfer";

// Sets the deadline of `context` to `timeout` from now; none for absl::InfiniteDuration().
void SetTimeout(grpc::ClientContext& context, absl::Duration timeout);

// The absl status of a gRPC status: the same code (the two share their numbering) and message,
// prefixed with "<context>: " when `context` is not empty. OK stays OK.
absl::Status FromGrpc(const grpc::Status& status, absl::string_view context = {});

}  // namespace sonic::transport
