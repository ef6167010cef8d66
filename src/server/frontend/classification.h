// Triton's classification extension: an output requested with the parameter `classification`
// (int64 k) comes back as the top k classes of each batch entry instead of the raw tensor, as
// BYTES strings "value:index" or "value:index:label" (labels from the output's label_filename),
// highest value first, ties by lower index. Shape [batch, k] for models with max_batch_size > 0,
// else [k]; k is capped at the classes an entry has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/core/inference_request.h"

namespace sonic::server {

// Rewrites `output` in place. INVALID_ARGUMENT for an output type that has no order (BOOL,
// BYTES, FP16, BF16, as Triton) naming the output and type. `labels` may be null.
absl::Status Classify(OutputTensor& output, uint64_t k, bool batched,
                      const std::vector<std::string>* labels);

}  // namespace sonic::server
