// Requests whose input contents come from a JSON file, in perf_analyzer's --input-data layout:
//
//   {"data": [ {"INPUT0": [1, 2, 3, 4], "INPUT1": {"content": [...], "shape": [2, 2]}},
//              {...next request...} ]}
//
// Each element of "data" is one request and must give every input of the model. An input is
// either an array of values (nested arrays are flattened; numbers or booleans for numeric types,
// strings for BYTES), its shape then resolved like generated data (model dims and --shape), or an
// object with "content" and "shape" (without the batch dimension). The values are one batch
// entry; with a batch size B > 1 they are repeated B times. Deviation from perf_analyzer: no
// "b64" contents, no sequence ("streams") data, and a batch repeats one entry rather than
// taking B consecutive ones.
//
// Stateless functions, thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "infer_request.h"

namespace sonic::tools {

// The requests described by `json` (text of the layout above), in order. INVALID_ARGUMENT naming
// the request index and input for malformed JSON, a missing input, values of the wrong kind, or
// a value count that does not match the shape.
absl::StatusOr<std::vector<inference::ModelInferRequest>> MakeRequestsFromJson(
    std::string_view json, const ModelInterface& model, const RequestSpec& spec);

// Reads `file` and calls MakeRequestsFromJson. NOT_FOUND when the file cannot be read; messages
// name the file.
absl::StatusOr<std::vector<inference::ModelInferRequest>> ReadRequestsFromJsonFile(
    const std::filesystem::path& file, const ModelInterface& model, const RequestSpec& spec);

// The requests a load cycles through for --input-data `input_data`: "zero" or "random" (one
// generated request, random values from `seed`) or the path of a JSON file as above. Errors are
// INVALID_ARGUMENT (an unreadable file included), with the flag named.
absl::StatusOr<std::vector<inference::ModelInferRequest>> MakeRequestsForInputData(
    const ModelInterface& model, const RequestSpec& spec, const std::string& input_data,
    uint64_t seed);

}  // namespace sonic::tools
