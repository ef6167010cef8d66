// The checks a request passes before it joins a queue, beyond what the frontend's parser checks
// against the config: whatever would otherwise fail only when its batch is assembled or run, and
// so fail every request batched with it, and the model's bounds on what one request may ask
// (max_input_elements and equal_variable_dims: model_signature.h).
//
// Thread-safe: a stateless function.
#pragma once

#include "absl/status/status.h"
#include "server/core/inference_request.h"
#include "server/core/model_signature.h"

namespace sonic::server {

// Checks `request` (parsed against `signature`): every input within max_input_elements, the
// groups of equal_variable_dims equal, every non-ragged input's `reshape` applicable, every
// batch_input's source input present and its count representable. INVALID_ARGUMENT naming the
// input and the limit or the mismatch; the client must change the request.
absl::Status ValidateRequest(const ModelSignature& signature, const InferenceRequest& request);

}  // namespace sonic::server
