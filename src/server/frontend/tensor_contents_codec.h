// Typed tensor contents (InferTensorContents: bool_contents, int_contents, ..., bytes_contents)
// converted to the raw wire layout of a tensor: consecutive little-endian elements, BYTES as a
// 4-byte little-endian length before each element. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "inference/grpc_service.pb.h"
#include "sonic/common/data_type.h"

namespace sonic::server {

// The names of the fields of `contents` that hold values, in declaration order.
std::vector<absl::string_view> PopulatedContentsFields(
    const inference::InferTensorContents& contents);

// The raw bytes of `elements` elements of `type` given as typed `contents`. INVALID_ARGUMENT
// (not retryable) when `type` has no typed field (FP16, BF16), when a field other than the one of
// `type` holds values, when the value count differs from `elements`, or when a value does not
// fit `type` (300 as INT8); the message names the field and, for a value, its index.
absl::StatusOr<std::string> ContentsToRaw(const inference::InferTensorContents& contents,
                                          DataType type, int64_t elements);

}  // namespace sonic::server
