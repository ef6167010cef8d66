// Translation of the core's InferenceResponse into the KServe v2 / Triton ModelInferResponse.
#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <cstddef>

#include "absl/status/status.h"
#include "inference/grpc_service.pb.h"
#include "server/core/inference_request.h"

namespace sonic::server {

// Sets model_name, model_version (the number as a decimal string) and id of `message`, and
// appends, for each response output in order, one `outputs` entry (name, datatype wire string,
// shape) and exactly one `raw_output_contents` entry, so that the two lists stay aligned (the
// Triton C++ client indexes them together). `message` should be freshly constructed.
//
// The output data strings are moved into the message, not copied; `response` is left with
// moved-from contents. Cannot fail. Thread-compatible.
void BuildInferResponse(InferenceResponse&& response, inference::ModelInferResponse& message);

// Outputs' raw contents from this size on travel as gRPC slices that own the output's bytes
// (no copy); smaller ones are copied beside the framing, which is cheaper than a slice of their
// own.
inline constexpr size_t kOwnedSliceBytes = 32 << 10;

// Writes into `out` (replaced) the bytes protobuf serializes for the message BuildInferResponse
// makes of `response`, without building that message: the unary ModelInfer answer's hot path.
// Leaves `response` with moved-from contents. INTERNAL when the message would exceed the 2 GiB
// protobuf can serialize. Thread-compatible.
absl::Status EncodeInferResponse(InferenceResponse&& response, grpc::ByteBuffer& out);

}  // namespace sonic::server
