// How a batch of requests becomes the backend's input tensors, and how the backend's outputs go
// back to each request, following Triton's backends (backend_input_collector /
// backend_output_responder in triton-inference-server/backend) for ragged inputs, `batch_input`
// and `batch_output`.
//
// Terms: a batch is the requests of one execution, in order; a request's "element count" of an
// input is the product of its whole shape as sent, batch dimension included; "batch items" are
// the rows of the batch dimension (a request of batch size 3 has 3).
//
// Inputs the backend receives (AssembleBatchInputs):
//  - An input without allow_ragged_batch: the requests' tensors concatenated along the batch
//    dimension, shape [sum of batch sizes, dims...] (for max_batch_size 0: the one request's
//    shape), then the config `reshape` applied to the non-batch part. One aligned request is
//    passed without a copy.
//  - An input with allow_ragged_batch: every request's elements one after another, as a 1-D
//    tensor of shape [sum of element counts]; the same for a batch of one (so a model sees one
//    layout whatever the batch), and `reshape` is not applied (Triton's backends do the same).
//  - One extra tensor per config `batch_input`, named by its target_name, of its data_type (INT32
//    or FP32), computed from source_input's shape in each request; for requests of shapes [1,3],
//    [1,4], [1,5] (element counts 3, 4, 5):
//      BATCH_ELEMENT_COUNT                       shape [requests]      [3, 4, 5]
//      BATCH_ACCUMULATED_ELEMENT_COUNT           shape [requests]      [3, 7, 12]
//      BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO shape [requests + 1]  [0, 3, 7, 12]
//      BATCH_MAX_ELEMENT_COUNT_AS_SHAPE          shape [max count]     [5] (contents zero; only
//                                                                      the shape means anything)
//      BATCH_ITEM_SHAPE                          shape [items, rank-1] [[3], [4], [5]]
//      BATCH_ITEM_SHAPE_FLATTEN                  shape [items*(rank-1)] [3, 4, 5]
//    Counts are per request (a request of shape [2,3] counts 6), while the ITEM_SHAPE kinds have
//    one row per batch item: the request's shape without its batch dimension, repeated batch-size
//    times (Triton's example: [3,1] and [2,2] give [[3,1],[3,1],[2,2]]). rank is the source
//    input's rank with the batch dimension.
//
// Outputs (SplitOutputForRequest): an ordinary output has the batch dimension first and each
// request takes its rows, in batch order. An output named by a `batch_output` of kind
// BATCH_SCATTER_WITH_INPUT_SHAPE is instead cut in consecutive pieces, one per request in batch
// order, each of the request's own shape: the output's config shape ([-1] batch dimension, then
// `reshape` if the output has one, else `dims`) with every -1 at position i replaced by dimension
// i of the request's source_input shape as sent (Triton's "naive" mapping). For a ragged identity
// model with output dims [-1], requests [1,3] and [1,4] get [1,3] and [1,4] from a flat [7].
//
// Thread-safe: stateless functions.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <span>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/core/inference_request.h"
#include "server/core/model_signature.h"
#include "sonic/backend/backend_api.h"
#include "sonic/common/shape.h"

namespace sonic::server {

// The backend's view of a batch's inputs. `tensors` point into `buffers` (heap arrays, never
// zero-filled: each is written whole before use) and `shapes` (a list), whose bytes and elements
// neither growing nor moving the struct moves, into the requests' input bytes (zero-copy inputs)
// and shapes (a request alone, without reshape or ragged batching), and into the requests' and
// the signature's names: valid while this struct, the batch and the signature live.
struct AssembledInputs {
  absl::InlinedVector<std::unique_ptr<std::byte[]>, 4> buffers;
  std::list<Shape> shapes;
  // The requests' inputs in order, then batch inputs; inline for the few inputs a model has.
  absl::InlinedVector<SonicBackendTensor, 4> tensors;
};

// Applies a config `reshape` (as Triton does): keeps the batch dimension (when `batched`) and
// replaces the rest of `shape` with `target`, whose -1 (at most one) takes what the element count
// leaves. For inputs the result is what the model sees; for outputs, with the config dims as
// `target`, what a client sees. INVALID_ARGUMENT when the element counts cannot match.
absl::StatusOr<Shape> ApplyReshape(const Shape& shape, bool batched,
                                   std::span<const int64_t> target);

// Appends to `out` the tensors described above for a non-empty batch whose requests carry the
// same inputs in the same order (CanBatchTogether holds pairwise). INVALID_ARGUMENT when a
// request lacks a batch_input's source_input or a `reshape` does not fit; INTERNAL when the
// requests' inputs differ or a count does not fit an INT32.
absl::Status AssembleBatchInputs(const ModelSignature& signature, const Batch& batch,
                                 AssembledInputs& out);

// The part of `whole` (an output of the execution of `batch`, of the shape the backend produced,
// with the batch dimension first unless it is scattered: ModelSignature::Output::scattered,
// which the backend may produce in any shape) that belongs to batch[index], copied.
// BYTES outputs are cut by walking their length-prefixed elements. INTERNAL when `whole` holds
// fewer elements than the requests' parts need; INVALID_ARGUMENT when a scattered output's -1
// has no matching dimension in the source input.
absl::StatusOr<OutputTensor> SplitOutputForRequest(const ModelSignature& signature,
                                                   const Batch& batch, size_t index,
                                                   const OutputTensor& whole);

// Whether requests `a` and `b` may run in one execution of a model with `signature`: batching is
// enabled (max_batch_size > 0) and they carry the same inputs in the same order with the same
// datatypes and the same shapes after the batch dimension, except that the shapes of inputs
// with allow_ragged_batch may differ. Their total batch size is the caller's to check.
bool CanBatchTogether(const ModelSignature& signature, const InferenceRequest& a,
                      const InferenceRequest& b);

}  // namespace sonic::server
