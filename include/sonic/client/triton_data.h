// Typed inputs and outputs of a TritonClient, discovered from the model's metadata and config.
//
// A client sends a batch of `batchSize()` entries (TritonClient::setBatchSize). Per event:
//   auto& in = *client->input("x").value();
//   in.setShape({n});                          // variable (-1) dimensions only; or, as CMSSW
//                                              // modules do, one dimension: in.setShape(0, n)
//   auto data = in.allocate<float>().value();  // one std::vector<float> per batch entry
//   ... fill (*data)[entry] ...
//   in.toServer(data);                         // once per event: type and size checked
//   client->dispatch(done);
//   ... in done / produce: auto out = client->output("y").value()->fromServer<float>().value();
//   out[entry] is a std::span<const float> into the server's response (no copy), valid until
//   client->reset().
// Shapes exclude the batch dimension: a model with max_batch_size > 0 gets the entries stacked
// (rectangular) or one request per entry (ragged), as TritonClient decides.
//
// Element types: bool, (u)int8..64, float, double as themselves; FP16 and BF16 as Float16 and
// BFloat16 (raw bits); BYTES as std::string for inputs and std::string_view for outputs.
//
// Errors (all kBadInput, see client_error.h; none retryable): a C++ type that does not match the
// tensor's datatype, a fixed dimension changed or a rank differing from the model's, an entry
// index out of range, toServer() twice in one event, entry count or element count not matching
// the batch size and shapes, a variable dimension left unset, outputs read before the request
// completed or after reset(). Messages name the model, server and tensor.
//
// CMSSW's TritonData names are kept: setShape(shape[, entry]), setShape(loc, val[, entry]),
// shape(entry), dims(), variableDims(), sizeDims(), sizeShape(entry), byteSize(), dname(),
// batchSize(), allocate<T>(), toServer(), fromServer<T>(). Where they differ: errors are returned
// (absl::Status) instead of thrown; setShape without an entry sets every entry (CMSSW: entry 0,
// which in its rectangular mode is the whole batch); dname() is a string_view.
//
// Thread-compatible: owned and driven by one TritonClient, used between its dispatches.
// isReady() may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"
#include "sonic/common/status.h"

namespace sonic::client {

// The raw bits of an FP16 / BF16 element (the client does no arithmetic on them).
struct Float16 {
  uint16_t bits = 0;
  bool operator==(const Float16&) const = default;
};
struct BFloat16 {
  uint16_t bits = 0;
  bool operator==(const BFloat16&) const = default;
};

// One vector of elements per batch entry, filled by the module.
template <typename T>
using TritonInput = std::vector<std::vector<T>>;
template <typename T>
using TritonInputContainer = std::shared_ptr<TritonInput<T>>;
// One read-only span per batch entry, into the response.
template <typename T>
using TritonOutput = std::vector<std::span<const T>>;

// The tensor datatype a C++ element type stands for in the client.
template <typename T>
constexpr DataType ClientDataTypeOf() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, std::string> || std::is_same_v<U, std::string_view>) {
    return DataType::kBytes;
  } else if constexpr (std::is_same_v<U, Float16>) {
    return DataType::kFp16;
  } else if constexpr (std::is_same_v<U, BFloat16>) {
    return DataType::kBf16;
  } else {
    return DataTypeOf<U>();
  }
}

class TritonClient;
namespace internal {
struct IoAccess;
}  // namespace internal

// Properties shared by inputs and outputs.
struct TensorInfo {
  std::string name;
  DataType type = DataType::kInvalid;
  Shape dims;             // without the batch dimension; -1 = variable
  bool batched = false;   // the model has max_batch_size > 0
  bool allow_ragged_batch = false;
  bool optional = false;  // an input the model can run without
};

class TritonInputData {
 public:
  // `context` names model and server in error messages ("model 'm' on server 'host:port'").
  TritonInputData(TensorInfo info, std::string context);

  const std::string& name() const { return info_.name; }
  DataType dtype() const { return info_.type; }
  const Shape& dims() const { return info_.dims; }
  bool variableDims() const { return !IsConcrete(info_.dims); }
  // The datatype's wire name ("FP32", "BYTES"...).
  std::string_view dname() const { return WireName(info_.type); }
  // Bytes per element; 0 for BYTES, whose elements have no fixed size.
  int64_t byteSize() const { return static_cast<int64_t>(ElementSize(info_.type)); }
  // Elements per entry by the model's dims; -1 when a dimension is variable.
  int64_t sizeDims() const;
  // Elements of entry `entry`'s shape; -1 while one of its variable dimensions is unset, or for
  // an entry out of range.
  int64_t sizeShape(size_t entry = 0) const;
  bool allowRaggedBatch() const { return info_.allow_ragged_batch; }
  bool optional() const { return info_.optional; }
  size_t batchSize() const { return shapes_.size(); }
  // The shape of an entry (-1 where a variable dimension is not set yet).
  const Shape& shape(size_t entry = 0) const { return shapes_.at(entry); }
  // Whether toServer() was called since the last reset().
  bool hasData() const { return sent_; }

  // Sets the shape of every entry (and of entries added by a later setBatchSize). Only variable
  // dimensions may differ from dims(). Not after toServer() in the same event.
  absl::Status setShape(const Shape& shape);
  // Sets the shape of one entry; entries of different shapes make the batch ragged.
  absl::Status setShape(const Shape& shape, size_t entry);
  // So that a braced shape with an entry, setShape({4, n}, 2), is a shape and never a location.
  absl::Status setShape(std::initializer_list<int64_t> shape, size_t entry) {
    return setShape(Shape(shape), entry);
  }
  // Sets dimension `loc` (counted without the batch dimension) to `value`, in every entry or in
  // one. The other dimensions keep their values (variable ones may still be unset). kBadInput:
  // `loc` beyond the rank, a fixed dimension given another value, a negative value, an entry out
  // of range, or after toServer() in the same event.
  absl::Status setShape(size_t loc, int64_t value);
  absl::Status setShape(size_t loc, int64_t value, size_t entry);

  // One empty vector per entry, with capacity for the entry's elements when `reserve` and its
  // shape is complete. Only a mismatched T fails.
  template <typename T>
  absl::StatusOr<TritonInputContainer<T>> allocate(bool reserve = true) const;

  // Hands the event's data over: checks the type, that there is one vector per entry and that
  // each holds exactly the elements of its shape. The container is kept (shared) until reset();
  // the module must not modify it after this call. Once per event.
  template <typename T>
  absl::Status toServer(TritonInputContainer<T> data);

 private:
  friend class TritonClient;
  friend struct internal::IoAccess;

  void setBatchSize(size_t size);
  void reset();
  absl::Status checkType(DataType requested) const;
  absl::Status checkContainer(const void* data, size_t entries) const;
  absl::Status checkEntry(size_t entry, size_t elements) const;
  absl::Status checkShape(const Shape& shape) const;
  absl::Status checkDimension(size_t loc, int64_t value) const;
  absl::Status checkEntryIndex(size_t entry) const;
  absl::Status error(absl::StatusCode code, std::string_view what) const;
  void keep(std::shared_ptr<const void> holder, std::vector<std::span<const std::byte>> views);
  // BYTES and BOOL entries are converted to their wire bytes, which the holder then owns.
  void keepStrings(const TritonInput<std::string>& data);
  void keepBools(const TritonInput<bool>& data);
  void keepSerialized(std::shared_ptr<std::vector<std::string>> serialized);

  TensorInfo info_;
  std::string context_;
  Shape default_shape_;
  std::vector<Shape> shapes_;
  bool sent_ = false;
  std::shared_ptr<const void> holder_;                    // keeps entry_bytes_ alive
  std::vector<std::span<const std::byte>> entry_bytes_;  // the wire bytes of each entry
};

class TritonOutputData {
 public:
  TritonOutputData(TensorInfo info, std::string context);

  const std::string& name() const { return info_.name; }
  DataType dtype() const { return info_.type; }
  const Shape& dims() const { return info_.dims; }
  bool variableDims() const { return !IsConcrete(info_.dims); }
  std::string_view dname() const { return WireName(info_.type); }
  // Bytes per element; 0 for BYTES.
  int64_t byteSize() const { return static_cast<int64_t>(ElementSize(info_.type)); }
  // Elements per entry by the model's dims; -1 when a dimension is variable.
  int64_t sizeDims() const;
  // Elements of entry `entry` as the server returned it once isReady(); before that, or for an
  // entry out of range, sizeDims().
  int64_t sizeShape(size_t entry = 0) const;
  // Whether the last dispatch completed successfully and reset() has not been called since.
  bool isReady() const { return ready_.load(std::memory_order_acquire); }
  // Entries of the completed batch (equal to the client's batch size).
  size_t batchSize() const { return entries_.size(); }
  // The shape the server returned for an entry (without the batch dimension). Requires isReady().
  absl::StatusOr<Shape> shape(size_t entry = 0) const;

  // Zero-copy views of each entry's elements, valid until the client's reset() (or the next
  // dispatch). T must match dtype(); BYTES outputs are read as std::string_view.
  template <typename T>
  absl::StatusOr<TritonOutput<T>> fromServer() const;

 private:
  friend class TritonClient;
  friend struct internal::IoAccess;

  struct Entry {
    Shape shape;
    std::span<const std::byte> bytes;
    std::vector<std::string_view> strings;  // BYTES only
  };

  absl::Status checkReadable(DataType requested) const;
  // The entry's bytes, copied to aligned storage in the rare case the response's are not.
  std::span<const std::byte> alignedBytes(size_t entry, size_t alignment) const;
  void reset();

  TensorInfo info_;
  std::string context_;
  std::vector<Entry> entries_;
  mutable std::vector<std::unique_ptr<uint64_t[]>> aligned_copies_;
  std::atomic<bool> ready_{false};
};

// ---- templates ----

template <typename T>
absl::StatusOr<TritonInputContainer<T>> TritonInputData::allocate(bool reserve) const {
  static_assert(!std::is_same_v<T, std::string_view>, "BYTES inputs are std::string");
  SONIC_RETURN_IF_ERROR(checkType(ClientDataTypeOf<T>()));
  auto data = std::make_shared<TritonInput<T>>(batchSize());
  if (reserve) {
    for (size_t i = 0; i < batchSize(); ++i) {
      if (!IsConcrete(shapes_[i])) continue;
      absl::StatusOr<int64_t> count = ElementCount(shapes_[i]);
      if (count.ok()) (*data)[i].reserve(static_cast<size_t>(*count));
    }
  }
  return data;
}

template <typename T>
absl::Status TritonInputData::toServer(TritonInputContainer<T> data) {
  static_assert(!std::is_same_v<T, std::string_view>, "BYTES inputs are std::string");
  SONIC_RETURN_IF_ERROR(checkType(ClientDataTypeOf<T>()));
  SONIC_RETURN_IF_ERROR(checkContainer(data.get(), data ? data->size() : 0));
  for (size_t i = 0; i < data->size(); ++i) {
    SONIC_RETURN_IF_ERROR(checkEntry(i, (*data)[i].size()));
  }
  if constexpr (std::is_same_v<T, std::string>) {
    keepStrings(*data);
  } else if constexpr (std::is_same_v<T, bool>) {
    keepBools(*data);  // std::vector<bool> is packed: converted to one byte per element
  } else {
    std::vector<std::span<const std::byte>> views;
    views.reserve(data->size());
    for (const std::vector<T>& entry : *data) views.push_back(std::as_bytes(std::span(entry)));
    keep(data, std::move(views));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<TritonOutput<T>> TritonOutputData::fromServer() const {
  static_assert(!std::is_same_v<T, std::string>, "BYTES outputs are read as std::string_view");
  SONIC_RETURN_IF_ERROR(checkReadable(ClientDataTypeOf<T>()));
  TritonOutput<T> views;
  views.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    if constexpr (std::is_same_v<T, std::string_view>) {
      views.emplace_back(entries_[i].strings);
    } else {
      std::span<const std::byte> bytes = alignedBytes(i, alignof(T));
      views.emplace_back(reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T));
    }
  }
  return views;
}

}  // namespace sonic::client
