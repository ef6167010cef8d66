// Non-owning views of tensor data over bytes. A view borrows: the bytes must outlive it.
// Thread-compatible (const use from several threads is safe).
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic {

class TensorView {
 public:
  TensorView() = default;
  TensorView(DataType type, Shape shape, std::span<const std::byte> bytes)
      : type_(type), shape_(std::move(shape)), bytes_(bytes) {}

  // Checks that `bytes` hold exactly the elements `shape` requires for `type` (for BYTES: that
  // the length-prefixed elements parse and their number matches). INVALID_ARGUMENT otherwise.
  static absl::StatusOr<TensorView> Create(DataType type, Shape shape,
                                           std::span<const std::byte> bytes);

  DataType type() const { return type_; }
  const Shape& shape() const { return shape_; }
  std::span<const std::byte> bytes() const { return bytes_; }

  // The elements as T. FAILED_PRECONDITION when T does not match type(). The data need not be
  // aligned for T on the wire, so use ElementAt() for unaligned buffers; As() requires alignment.
  template <typename T>
  absl::StatusOr<std::span<const T>> As() const;

  // Copies element `i` out as T (works on unaligned data). The caller checks bounds and type.
  template <typename T>
  T ElementAt(size_t i) const {
    T value;
    std::memcpy(&value, bytes_.data() + i * sizeof(T), sizeof(T));
    return value;
  }

 private:
  DataType type_ = DataType::kInvalid;
  Shape shape_;
  std::span<const std::byte> bytes_;
};

// Validates the BYTES wire encoding (each element: 4-byte little-endian length, then the bytes)
// and returns the number of elements found. INVALID_ARGUMENT when a length runs past the end.
absl::StatusOr<int64_t> CountSerializedStrings(std::span<const std::byte> bytes);

// Calls `fn(std::string_view)` for each element of a valid BYTES buffer.
template <typename Fn>
void ForEachSerializedString(std::span<const std::byte> bytes, Fn&& fn) {
  size_t pos = 0;
  while (pos + 4 <= bytes.size()) {
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + pos, 4);
    pos += 4;
    fn(std::string_view(reinterpret_cast<const char*>(bytes.data() + pos), len));
    pos += len;
  }
}

template <typename T>
absl::StatusOr<std::span<const T>> TensorView::As() const {
  if (DataTypeOf<T>() != type_) {
    return absl::FailedPreconditionError(std::string("tensor holds ") +
                                         std::string(WireName(type_)) + ", not " +
                                         std::string(WireName(DataTypeOf<T>())));
  }
  if (reinterpret_cast<uintptr_t>(bytes_.data()) % alignof(T) != 0) {
    return absl::FailedPreconditionError("tensor data is not aligned for its element type");
  }
  return std::span<const T>(reinterpret_cast<const T*>(bytes_.data()), bytes_.size() / sizeof(T));
}

}  // namespace sonic
