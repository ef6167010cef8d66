// The ModelMetadata answer of the KServe v2 / Triton protocol, built from a model version's
// signature (its configuration as model_signature.h holds it).
#pragma once

#include <cstdint>
#include <vector>

#include "inference/grpc_service.pb.h"
#include "server/core/model_signature.h"

namespace sonic::server {

// Fills `message` from `signature`: name; versions (`ready_versions` as decimal strings, in the
// given order); platform (config.platform, or config.backend when the platform is empty); and
// one TensorMetadata per config input and output, in config order, with the datatype wire
// string ("FP32", "BYTES"; "INVALID" for an unset type) and shape = the reshape-independent
// `dims`, with -1 prepended for the batch dimension when max_batch_size > 0. Inputs that are
// batch_input targets are built by the server, not sent by clients, and are not listed.
// `message` should be freshly constructed. Cannot fail. Thread-safe.
void BuildModelMetadata(const ModelSignature& signature, const std::vector<int64_t>& ready_versions,
                        inference::ModelMetadataResponse& message);

}  // namespace sonic::server
