// Validation of a KServe v2 / Triton ModelInferRequest against its model's signature (the
// configuration as model_signature.h holds it), and
// its translation into the core's InferenceRequest (typed contents through
// tensor_contents_codec.h, shared-memory tensors through shared_memory_tensors.h). Everything a
// client can get wrong is caught here, before the request reaches a queue, so a bad request costs
// nobody else anything.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "inference/grpc_service.pb.h"
#include "server/core/inference_request.h"
#include "server/core/model_signature.h"
#include "server/frontend/infer_request_view.h"
#include "server/frontend/shared_memory_tensors.h"
#include "server/shm/shared_memory_manager.h"
#include "server/shm/shared_memory_region.h"

namespace sonic::server {

// The request parameter with which a client asks a stream for an empty response marking the end
// of a decoupled model's responses. Reserved `triton_` key that Triton accepts.
inline constexpr char kEnableEmptyFinalResponse[] = "triton_enable_empty_final_response";

// Fills request.id, batch_size, inputs, outputs, priority and timeout_us (and owned_data) from
// `message`, checked against `signature`. Leaves model, on_complete and arrival_ns to the caller.
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
//   INVALID_ARGUMENT (of several bad request parameters, the one with the smallest key):
//     unknown, missing or duplicate input or output; an input that is a
//     config batch_input target; wrong datatype; wrong shape; negative or overflowing dims;
//     batch size 0, over max_batch_size or differing between inputs; raw byte size or BYTES
//     encoding not matching the shape; raw_input_contents count not matching the inputs
//     outside shared memory; both raw and typed contents, or typed contents in the wrong field;
//     `priority` / `timeout` parameters of the wrong type or negative;
//     `triton_enable_empty_final_response` that is not a bool; any other `triton_*` key
//     (reserved, as in Triton).
//     An output `classification` that is not a positive int64/uint64 (kept in
//     RequestedOutput::classification; the frontend applies it, see classification.h).
//   UNIMPLEMENTED: shared-memory tensors (this overload).
// Ignored, as Triton does for a model without the sequence batcher: `sequence_id`,
// `sequence_start`, `sequence_end`.
// On error `request` may be partly filled and must be discarded.
//
// Never reads outside `message`'s buffers whatever it contains. Thread-safe: a pure function
// of its arguments.
absl::Status ParseInferRequest(const inference::ModelInferRequest& message,
                               const ModelSignature& signature, InferenceRequest& request);

// As above, and tensors may live in the system or CUDA shared-memory regions of `regions` (those
// the request's client registered; see docs/PROTOCOL.md): parameters `shared_memory_region`
// (string), `shared_memory_byte_size` (int64/uint64) and optional `shared_memory_offset` (default
// 0). An input in a system region gets a view into it, and the request holds a reference to the
// region (held_resources), so an unregister does not unmap it before the request is destroyed; an
// input in a CUDA region is copied to host memory (request.owned_data) here, once. Outputs in
// shared memory are appended to `shm_outputs` (holding their regions); the caller writes them with
// WriteSharedMemoryOutputs (shared_memory_tensors.h) once the response is ready. Additional
// INVALID_ARGUMENT errors: an unknown region, offset or size without a region, parameters of the
// wrong type, a window outside its region, an input byte_size not matching its shape, shared memory
// together with contents.
absl::Status ParseInferRequest(const inference::ModelInferRequest& message,
                               const ModelSignature& signature, const ClientRegions& regions,
                               InferenceRequest& request,
                               std::vector<SharedMemoryOutput>& shm_outputs);

// The same two on a view of the request (infer_request_view.h). The view itself may go once
// parsed; what it borrows must stay alive and unchanged until the request has completed (the
// inputs' `data` point into its raw_input_contents). A message's view gives what the message does.
absl::Status ParseInferRequest(const InferRequestView& view, const ModelSignature& signature,
                               InferenceRequest& request);
absl::Status ParseInferRequest(const InferRequestView& view, const ModelSignature& signature,
                               const ClientRegions& regions, InferenceRequest& request,
                               std::vector<SharedMemoryOutput>& shm_outputs);

}  // namespace sonic::server
