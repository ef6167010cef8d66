#include "sonic/common/tensor_view.h"

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic {

absl::StatusOr<int64_t> CountSerializedStrings(std::span<const std::byte> bytes) {
  int64_t count = 0;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYTES element ", count, " has a truncated 4-byte length prefix"));
    }
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + pos, 4);
    pos += 4;
    if (len > bytes.size() - pos) {
      return absl::InvalidArgumentError(absl::StrCat("BYTES element ", count, " claims ", len,
                                                     " bytes but only ", bytes.size() - pos,
                                                     " remain"));
    }
    pos += len;
    ++count;
  }
  return count;
}

absl::StatusOr<TensorView> TensorView::Create(DataType type, Shape shape,
                                              std::span<const std::byte> bytes) {
  SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(shape));
  if (type == DataType::kBytes) {
    SONIC_ASSIGN_OR_RETURN(int64_t found, CountSerializedStrings(bytes));
    if (found != elements) {
      return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeToString(shape), " needs ",
                                                     elements, " BYTES elements, got ", found));
    }
  } else {
    size_t size = ElementSize(type);
    if (size == 0) return absl::InvalidArgumentError("tensor has an invalid data type");
    uint64_t expected = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(elements), size, &expected)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape), " has too many bytes"));
    }
    if (bytes.size() != expected) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape ", ShapeToString(shape), " of ", std::string(WireName(type)), " needs ", expected,
          " bytes, got ", bytes.size()));
    }
  }
  return TensorView(type, std::move(shape), bytes);
}

}  // namespace sonic
