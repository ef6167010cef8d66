#include "sonic/client/triton_data.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sonic/client/client_error.h"

namespace sonic::client {

namespace {

// The element count of `shape`; -1 when it has a variable (or unset) dimension.
int64_t ConcreteSize(const Shape& shape) {
  if (!IsConcrete(shape)) return -1;
  absl::StatusOr<int64_t> count = ElementCount(shape);
  return count.ok() ? *count : -1;
}

}  // namespace

TritonInputData::TritonInputData(TensorInfo info, std::string context)
    : info_(std::move(info)),
      context_(std::move(context)),
      default_shape_(info_.dims),
      shapes_(1, info_.dims) {}

absl::Status TritonInputData::error(absl::StatusCode code, std::string_view what) const {
  return MakeClientError(code, ErrorCategory::kBadInput,
                         absl::StrCat(context_, ", input '", info_.name, "': ", std::string(what)));
}

absl::Status TritonInputData::checkShape(const Shape& shape) const {
  if (sent_) {
    return error(absl::StatusCode::kFailedPrecondition,
                 "setShape() after toServer() in the same event; call reset() first");
  }
  if (shape.size() != info_.dims.size()) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("shape ", ShapeToString(shape), " has rank ", shape.size(),
                              ", the model's dims ", ShapeToString(info_.dims), " have rank ",
                              info_.dims.size()));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (info_.dims[i] != kVariableDim && shape[i] != info_.dims[i]) {
      return error(
          absl::StatusCode::kInvalidArgument,
          absl::StrCat("dimension ", i, " is fixed at ", info_.dims[i], " by the model (dims ",
                       ShapeToString(info_.dims),
                       "); only variable (-1) dimensions can be set, got ", ShapeToString(shape)));
    }
    if (shape[i] < 0) {
      return error(
          absl::StatusCode::kInvalidArgument,
          absl::StrCat("dimension ", i, " must be set to a size >= 0, got ", ShapeToString(shape)));
    }
  }
  return absl::OkStatus();
}

absl::Status TritonInputData::setShape(const Shape& shape) {
  SONIC_RETURN_IF_ERROR(checkShape(shape));
  default_shape_ = shape;
  for (Shape& entry : shapes_) entry = shape;
  return absl::OkStatus();
}

absl::Status TritonInputData::checkEntryIndex(size_t entry) const {
  if (entry < shapes_.size()) return absl::OkStatus();
  return error(
      absl::StatusCode::kOutOfRange,
      absl::StrCat("entry ", entry, " is out of range: the batch size is ", shapes_.size()));
}

absl::Status TritonInputData::setShape(const Shape& shape, size_t entry) {
  SONIC_RETURN_IF_ERROR(checkEntryIndex(entry));
  SONIC_RETURN_IF_ERROR(checkShape(shape));
  shapes_[entry] = shape;
  return absl::OkStatus();
}

absl::Status TritonInputData::checkDimension(size_t loc, int64_t value) const {
  if (sent_) {
    return error(absl::StatusCode::kFailedPrecondition,
                 "setShape() after toServer() in the same event; call reset() first");
  }
  if (loc >= info_.dims.size()) {
    return error(absl::StatusCode::kOutOfRange,
                 absl::StrCat("dimension ", loc, " does not exist: the model's dims ",
                              ShapeToString(info_.dims), " have rank ", info_.dims.size()));
  }
  if (info_.dims[loc] != kVariableDim && value != info_.dims[loc]) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("dimension ", loc, " is fixed at ", info_.dims[loc],
                              " by the model (dims ", ShapeToString(info_.dims),
                              "); only variable (-1) dimensions can be set, got ", value));
  }
  if (value < 0) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("dimension ", loc, " must be set to a size >= 0, got ", value));
  }
  return absl::OkStatus();
}

absl::Status TritonInputData::setShape(size_t loc, int64_t value) {
  SONIC_RETURN_IF_ERROR(checkDimension(loc, value));
  default_shape_[loc] = value;
  for (Shape& entry : shapes_) entry[loc] = value;
  return absl::OkStatus();
}

absl::Status TritonInputData::setShape(size_t loc, int64_t value, size_t entry) {
  SONIC_RETURN_IF_ERROR(checkEntryIndex(entry));
  SONIC_RETURN_IF_ERROR(checkDimension(loc, value));
  shapes_[entry][loc] = value;
  return absl::OkStatus();
}

int64_t TritonInputData::sizeDims() const { return ConcreteSize(info_.dims); }

int64_t TritonInputData::sizeShape(size_t entry) const {
  return entry < shapes_.size() ? ConcreteSize(shapes_[entry]) : -1;
}

absl::Status TritonInputData::checkType(DataType requested) const {
  if (requested == info_.type) return absl::OkStatus();
  return error(absl::StatusCode::kInvalidArgument,
               absl::StrCat("the model's datatype is ", std::string(WireName(info_.type)),
                            ", but the data given is ", std::string(WireName(requested))));
}

absl::Status TritonInputData::checkContainer(const void* data, size_t entries) const {
  if (sent_) {
    return error(absl::StatusCode::kFailedPrecondition,
                 "toServer() was already called for this event; call reset() before the next");
  }
  if (data == nullptr) return error(absl::StatusCode::kInvalidArgument, "toServer(nullptr)");
  if (entries != shapes_.size()) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("the data has ", entries, " entries, the batch size is ",
                              shapes_.size(), " (allocate() after setBatchSize())"));
  }
  return absl::OkStatus();
}

absl::Status TritonInputData::checkEntry(size_t entry, size_t elements) const {
  const Shape& shape = shapes_[entry];
  if (!IsConcrete(shape)) {
    return error(absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("entry ", entry, " has shape ", ShapeToString(shape),
                              ": set its variable dimensions with setShape() first"));
  }
  SONIC_ASSIGN_OR_RETURN(int64_t expected, ElementCount(shape));
  if (static_cast<int64_t>(elements) != expected) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("entry ", entry, " holds ", elements, " elements, its shape ",
                              ShapeToString(shape), " needs ", expected));
  }
  return absl::OkStatus();
}

void TritonInputData::keep(std::shared_ptr<const void> holder,
                           std::vector<std::span<const std::byte>> views) {
  holder_ = std::move(holder);
  entry_bytes_ = std::move(views);
  sent_ = true;
}

void TritonInputData::keepStrings(const TritonInput<std::string>& data) {
  auto serialized = std::make_shared<std::vector<std::string>>(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    std::string& out = (*serialized)[i];
    for (const std::string& element : data[i]) {
      const uint32_t length = static_cast<uint32_t>(element.size());
      char prefix[4];
      std::memcpy(prefix, &length, 4);  // little-endian on every supported platform
      out.append(prefix, 4);
      out.append(element);
    }
  }
  keepSerialized(std::move(serialized));
}

void TritonInputData::keepBools(const TritonInput<bool>& data) {
  auto serialized = std::make_shared<std::vector<std::string>>(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    std::string& out = (*serialized)[i];
    out.reserve(data[i].size());
    for (bool element : data[i]) out.push_back(element ? '\1' : '\0');
  }
  keepSerialized(std::move(serialized));
}

void TritonInputData::keepSerialized(std::shared_ptr<std::vector<std::string>> serialized) {
  std::vector<std::span<const std::byte>> views;
  views.reserve(serialized->size());
  for (const std::string& entry : *serialized) {
    views.push_back(std::as_bytes(std::span(entry.data(), entry.size())));
  }
  keep(std::move(serialized), std::move(views));
}

void TritonInputData::setBatchSize(size_t size) { shapes_.resize(size, default_shape_); }

void TritonInputData::reset() {
  sent_ = false;
  holder_.reset();
  entry_bytes_.clear();
}

TritonOutputData::TritonOutputData(TensorInfo info, std::string context)
    : info_(std::move(info)), context_(std::move(context)) {}

absl::Status TritonOutputData::checkReadable(DataType requested) const {
  auto fail = [this](absl::StatusCode code, std::string_view what) {
    return MakeClientError(
        code, ErrorCategory::kBadInput,
        absl::StrCat(context_, ", output '", info_.name, "': ", std::string(what)));
  };
  if (!isReady()) {
    return fail(absl::StatusCode::kFailedPrecondition,
                "read before a dispatch completed successfully (or after reset())");
  }
  if (requested != info_.type) {
    return fail(absl::StatusCode::kInvalidArgument,
                absl::StrCat("the model's datatype is ", std::string(WireName(info_.type)),
                             ", but it is read as ", std::string(WireName(requested))));
  }
  return absl::OkStatus();
}

int64_t TritonOutputData::sizeDims() const { return ConcreteSize(info_.dims); }

int64_t TritonOutputData::sizeShape(size_t entry) const {
  if (!isReady() || entry >= entries_.size()) return sizeDims();
  return ConcreteSize(entries_[entry].shape);
}

absl::StatusOr<Shape> TritonOutputData::shape(size_t entry) const {
  SONIC_RETURN_IF_ERROR(checkReadable(info_.type));
  if (entry >= entries_.size()) {
    return MakeClientError(absl::StatusCode::kOutOfRange, ErrorCategory::kBadInput,
                           absl::StrCat(context_, ", output '", info_.name, "': entry ", entry,
                                        " is out of range: the batch size is ", entries_.size()));
  }
  return entries_[entry].shape;
}

std::span<const std::byte> TritonOutputData::alignedBytes(size_t entry, size_t alignment) const {
  std::span<const std::byte> bytes = entries_[entry].bytes;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignment == 0) return bytes;
  auto copy = std::make_unique<uint64_t[]>(bytes.size() / sizeof(uint64_t) + 1);
  std::memcpy(copy.get(), bytes.data(), bytes.size());
  std::span<const std::byte> aligned(reinterpret_cast<const std::byte*>(copy.get()), bytes.size());
  aligned_copies_.push_back(std::move(copy));
  return aligned;
}

void TritonOutputData::reset() {
  ready_.store(false, std::memory_order_release);
  entries_.clear();
  aligned_copies_.clear();
}

}  // namespace sonic::client
