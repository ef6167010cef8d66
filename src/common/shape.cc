#include "sonic/common/shape.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sonic {

absl::StatusOr<int64_t> ElementCount(std::span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape), " has a negative dimension"));
    }
    if (__builtin_mul_overflow(count, dim, &count)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape), " has too many elements"));
    }
  }
  return count;
}

bool IsConcrete(std::span<const int64_t> shape) {
  for (int64_t dim : shape) {
    if (dim < 0) return false;
  }
  return true;
}

bool MatchesDims(std::span<const int64_t> pattern, std::span<const int64_t> shape) {
  if (pattern.size() != shape.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != kVariableDim && pattern[i] != shape[i]) return false;
  }
  return true;
}

absl::StatusOr<Shape> ResolveDims(std::span<const int64_t> pattern, int64_t element_count) {
  Shape shape(pattern.begin(), pattern.end());
  auto variable = std::find(shape.begin(), shape.end(), kVariableDim);
  int64_t known = 1;
  for (int64_t dim : shape) {
    if (dim != kVariableDim) known *= dim;
  }
  if (variable != shape.end() && std::find(variable + 1, shape.end(), kVariableDim) == shape.end() &&
      known > 0 && element_count % known == 0) {
    *variable = element_count / known;
  }
  absl::StatusOr<int64_t> count = ElementCount(shape);
  if (!count.ok() || *count != element_count) {
    return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", element_count,
                                                   " elements to ", ShapeToString(pattern)));
  }
  return shape;
}

std::string ShapeToString(std::span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

}  // namespace sonic
