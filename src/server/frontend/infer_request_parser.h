// Validation of a KServe v2 / Triton ModelInferRequest against its model's configuration, and
// its translation into the core's InferenceRequest. Everything a client can get wrong is caught
// here, before the request reaches a queue, so a bad request costs nobody else anything.
#pragma once

#include "absl/status/status.h"
#include "inference/grpc_service.pb.h"
#include "inference/model_config.pb.h"
#include "server/core/inference_request.h"

namespace sonic::server {

// Fills request.id, batch_size, inputs, outputs, priority and timeout_us (and owned_data) from
// `message`, checked against `config`. Leaves model, on_complete and arrival_ns to the caller.
//
// Zero copy: an input sent in raw_input_contents gets a `data` view INTO that string of
// `message`, so the message must stay alive and unmodified until the request has completed.
// Inputs sent as typed `contents` are converted to the raw wire layout (BYTES: 4-byte
// little-endian length prefixes) into request.owned_data, and their views point there.
//
// Inputs come in config input order; an `optional` input the client did not send is absent.
// batch_size is the shared leading dimension when config.max_batch_size > 0, otherwise 1.
// Outputs come in the order the client named them, or all config outputs in config order when
// it named none. The reshape-independent `dims` of the config are what shapes are checked
// against (with a leading -1 batch dimension when max_batch_size > 0).
//
// Errors, none retryable (the client must change the request); messages name the model, the
// tensor or parameter, and what was expected versus received:
//   INVALID_ARGUMENT: unknown, missing or duplicate input or output; an input that is a
//     config batch_input target; wrong datatype; wrong shape; negative or overflowing dims;
//     batch size 0, over max_batch_size or differing between inputs; raw byte size or BYTES
//     encoding not matching the shape; raw_input_contents count not matching the inputs
//     outside shared memory; both raw and typed contents, or typed contents in the wrong field;
//     `priority` / `timeout` parameters of the wrong type or negative; reserved `triton_*` keys.
//   UNIMPLEMENTED: shared-memory tensors, output `classification`, sequence parameters
//     (`sequence_id`, `sequence_start`, `sequence_end`).
// On error `request` may be partly filled and must be discarded.
//
// Never reads outside `message`'s buffers whatever it contains. Thread-safe: a pure function
// of its arguments.
absl::Status ParseInferRequest(const inference::ModelInferRequest& message,
                               const inference::ModelConfig& config, InferenceRequest& request);

}  // namespace sonic::server
