// Translation of the core's InferenceResponse into the KServe v2 / Triton ModelInferResponse.
#pragma once

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

}  // namespace sonic::server
