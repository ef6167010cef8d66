// The checks a request passes before it joins a queue, beyond what the frontend's parser checks
// against the config: whatever would otherwise fail only when its batch is assembled or run, and
// so fail every request batched with it, and the model's bounds on what one request may ask.
//
// A model's bounds come from its config `parameters` (ignored by the backends, which skip keys
// they do not know):
//   max_input_elements: the most elements (batch dimension included) any one input of one
//     request may have, a positive integer; without it the server's default
//     (--max-input-elements). A model whose work grows faster than its inputs (a kNN over a jet's
//     constituents) sets it to what it can afford.
//   equal_variable_dims: groups of inputs, "a,b;c,d", whose variable lengths must be equal in
//     every request (the inputs of a group describe the same items, e.g. each constituent's
//     points and features). An input's variable length is the product of its dimensions that are
//     -1 in the config dims (for pf_points [-1, 2] sent as [1, n, 2]: n).
//
// Thread-safe: stateless functions and immutable values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"
#include "server/core/inference_request.h"

namespace sonic::server {

struct RequestLimits {
  uint64_t max_input_elements = uint64_t{1} << 26;
  std::vector<std::vector<std::string>> equal_variable_dims;  // input names, per group
};

// The limits of a model with `config`: its parameters above, else `default_max_input_elements`.
// INVALID_ARGUMENT naming the parameter when one is malformed or names an unknown input.
absl::StatusOr<RequestLimits> ReadRequestLimits(const inference::ModelConfig& config,
                                                uint64_t default_max_input_elements);

// Checks `request` (parsed against `config`): every input within max_input_elements, the
// groups of equal_variable_dims equal, every non-ragged input's `reshape` applicable, every
// batch_input's source input present and its count representable. INVALID_ARGUMENT naming the
// input and the limit or the mismatch; the client must change the request.
absl::Status ValidateRequest(const inference::ModelConfig& config, const RequestLimits& limits,
                             const InferenceRequest& request);

}  // namespace sonic::server
