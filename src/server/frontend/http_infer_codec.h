// The JSON form of an inference request and response on the KServe v2 HTTP/REST endpoint, with
// Triton's binary tensor data extension, translated to and from the messages of the gRPC path:
// an HTTP request becomes an inference::ModelInferRequest (every tensor outside shared memory in
// raw_input_contents), so that validation, errors and statistics are those of gRPC.
//
// Pure functions of their arguments: thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/grpc_service.pb.h"
#include "server/core/inference_request.h"

namespace sonic::server {

// How the response to one HTTP request is to be written: which outputs come back as binary
// tensor data and which stay in shared memory.
struct HttpOutputFormat {
  // The request parameter `binary_data_output`: binary for every output not saying otherwise.
  bool binary_by_default = false;
  struct Requested {
    std::string name;
    std::optional<bool> binary;  // the output parameter `binary_data`
    bool in_shared_memory = false;
  };
  std::vector<Requested> outputs;  // as named in the request; empty: all, by default
};

// Parses an infer request body. `header_length` is the Inference-Header-Content-Length header:
// the first that many bytes are the JSON, the rest the binary tensors of the inputs that carry
// `binary_data_size`, in input order; without it the whole body is JSON. Fills everything of
// `message` but model_name and model_version (from the URL).
//
// `data` may be flat or nested (row-major); its element count must match `shape`. BOOL takes
// true/false, integer types integers within range, FP32/FP64 any number, BYTES strings;
// FP16/BF16 only as binary. Request and tensor parameters become InferParameters (bool, int64,
// uint64 above INT64_MAX, double, string) except those of this extension, which are consumed.
//
// INVALID_ARGUMENT, naming the tensor: malformed JSON, a header length past the body, a missing
// or mistyped field, data not matching shape or datatype, binary sizes overrunning or leaving
// unread bytes, `data` together with binary data or shared memory.
absl::Status ParseHttpInferRequest(std::string_view body, std::optional<size_t> header_length,
                                   inference::ModelInferRequest& message, HttpOutputFormat& format);

struct HttpBody {
  std::string data;
  // Set when binary tensors follow the JSON: its length (Inference-Header-Content-Length).
  std::optional<size_t> header_length;
};

// Writes `response` as Triton does: {"model_name", "model_version", "id" (when set), "outputs":
// [{"name", "datatype", "shape", "data" | "parameters": {"binary_data_size"}}]}. An output in
// shared memory has neither data nor binary data. FP16 and BF16 outputs are always binary, as
// JSON has no such numbers. BYTES elements become JSON strings (invalid UTF-8 replaced: ask for
// binary data to get arbitrary bytes). Output data is moved out of `response`.
HttpBody BuildHttpInferResponse(InferenceResponse&& response, const HttpOutputFormat& format);

// {"error": message}.
std::string HttpErrorBody(std::string_view message);

}  // namespace sonic::server
