// Tensor shapes: a list of dimensions where -1 (kVariableDim) marks a dimension fixed only per
// request. Helpers never overflow silently: element counts that do not fit int64 are errors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic {

using Shape = std::vector<int64_t>;

inline constexpr int64_t kVariableDim = -1;

// Number of elements of a concrete shape (1 for a scalar, rank 0). INVALID_ARGUMENT when a
// dimension is negative or the product overflows.
absl::StatusOr<int64_t> ElementCount(std::span<const int64_t> shape);

// True when every dimension is known (no -1).
bool IsConcrete(std::span<const int64_t> shape);

// True when `shape` fits `pattern`: same rank and every pattern dimension is -1 or equal.
bool MatchesDims(std::span<const int64_t> pattern, std::span<const int64_t> shape);

// `pattern` with its -1 (at most one) replaced so that the shape holds `element_count` elements:
// ResolveDims([-1,4], 12) == [3,4]. INVALID_ARGUMENT when that is impossible.
absl::StatusOr<Shape> ResolveDims(std::span<const int64_t> pattern, int64_t element_count);

// "[2,-1,3]".
std::string ShapeToString(std::span<const int64_t> shape);

}  // namespace sonic
