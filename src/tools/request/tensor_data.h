// Tensor bytes for the command-line clients (sonic-infer, sonic perf) in the KServe v2 raw
// layout (little-endian elements; raw BOOL is one byte; a BYTES element is a 4-byte
// little-endian length followed by its bytes): generating input contents, encoding given
// values, and formatting output contents for printing.
//
// Stateless functions; thread-compatible (a caller's random generator is not shared).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic::tools {

// What an input is filled with.
enum class InputData {
  kZero,    // numbers 0, BOOL false, BYTES empty strings.
  kRandom,  // floats uniform in [-1, 1), integers uniform in [0, 100), BOOL either, BYTES the
            // decimal text of such an integer, or random letters and digits (string_length).
};

// Raw contents of a tensor of `element_count` elements of wire datatype `datatype` ("FP32",
// "BYTES", ...). Random values come from `rng`; random BYTES elements are `string_length`
// letters and digits when it is positive (perf_analyzer's --string-length). INVALID_ARGUMENT
// for an unknown datatype or a negative count.
absl::StatusOr<std::string> MakeInputContents(std::string_view datatype, int64_t element_count,
                                              InputData data, std::mt19937_64& rng,
                                              int64_t string_length = 0);

// Raw contents of the numbers `values` as elements of the fixed-size wire datatype `datatype`
// (BOOL: non-zero is true; integers truncated; FP16/BF16 rounded toward zero). INVALID_ARGUMENT
// for BYTES or an unknown datatype.
absl::StatusOr<std::string> EncodeNumbers(std::string_view datatype,
                                          const std::vector<double>& values);

// Raw BYTES contents of `values`.
std::string EncodeStrings(const std::vector<std::string>& values);

// The first `max_values` elements of raw `contents` of datatype `datatype` as text: numbers
// in decimal (FP16 and BF16 decoded to float), BOOL as true/false, BYTES as quoted strings.
// Sets `*total` (when not null) to the number of elements in `contents`. INVALID_ARGUMENT for
// an unknown datatype or contents that do not split into whole elements.
absl::StatusOr<std::vector<std::string>> FormatRawContents(std::string_view datatype,
                                                           std::string_view contents,
                                                           size_t max_values, size_t* total);

}  // namespace sonic::tools
