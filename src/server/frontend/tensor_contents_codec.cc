#include "server/frontend/tensor_contents_codec.h"

#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

using inference::InferTensorContents;
template <typename T>
using RepeatedField = google::protobuf::RepeatedField<T>;

// Debian's Abseil has its own absl::string_view, which does not convert from std::string_view.
absl::string_view TypeName(DataType type) {
  std::string_view name = WireName(type);
  return absl::string_view(name.data(), name.size());
}

// The InferTensorContents field that carries `type`; nullopt for FP16 and BF16 (no field).
std::optional<absl::string_view> ContentsFieldFor(DataType type) {
  switch (type) {
    case DataType::kBool:
      return "bool_contents";
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
      return "int_contents";
    case DataType::kInt64:
      return "int64_contents";
    case DataType::kUint8:
    case DataType::kUint16:
    case DataType::kUint32:
      return "uint_contents";
    case DataType::kUint64:
      return "uint64_contents";
    case DataType::kFp32:
      return "fp32_contents";
    case DataType::kFp64:
      return "fp64_contents";
    case DataType::kBytes:
      return "bytes_contents";
    default:
      return std::nullopt;
  }
}

absl::Status CheckContentsField(const InferTensorContents& contents, DataType type) {
  std::optional<absl::string_view> field = ContentsFieldFor(type);
  if (!field.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("datatype ", TypeName(type),
                     " has no typed contents field; send it in raw_input_contents"));
  }
  for (absl::string_view used : PopulatedContentsFields(contents)) {
    if (used != *field) {
      return absl::InvalidArgumentError(
          absl::StrCat("datatype ", TypeName(type), " is sent in ", *field, ", got ", used));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValueCount(int count, absl::string_view field, int64_t elements) {
  if (count == elements) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " has ", count, " values, the shape needs ", elements));
}

// Packs `values` as consecutive little-endian `Out`s, refusing values that do not fit.
template <typename Out, typename In>
absl::StatusOr<std::string> PackValues(const RepeatedField<In>& values, absl::string_view field,
                                       int64_t elements, DataType type) {
  SONIC_RETURN_IF_ERROR(CheckValueCount(values.size(), field, elements));
  std::string raw(static_cast<size_t>(values.size()) * sizeof(Out), '\0');
  if constexpr (std::is_same_v<In, Out>) {
    if (!raw.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  } else {
    for (int i = 0; i < values.size(); ++i) {
      In value = values.Get(i);
      if constexpr (!std::is_same_v<In, bool>) {
        if (!std::in_range<Out>(value)) {
          return absl::InvalidArgumentError(
              absl::StrCat(field, "[", i, "] = ", value, " does not fit ", TypeName(type)));
        }
      }
      Out packed = static_cast<Out>(value);
      std::memcpy(raw.data() + static_cast<size_t>(i) * sizeof(Out), &packed, sizeof(Out));
    }
  }
  return raw;
}

// Serializes strings in the raw BYTES layout: a 4-byte little-endian length, then the bytes.
absl::StatusOr<std::string> PackStrings(
    const google::protobuf::RepeatedPtrField<std::string>& values, int64_t elements) {
  SONIC_RETURN_IF_ERROR(CheckValueCount(values.size(), "bytes_contents", elements));
  size_t total = 0;
  for (const std::string& value : values) total += 4 + value.size();
  std::string raw;
  raw.reserve(total);
  for (const std::string& value : values) {
    if (value.size() > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError("a bytes_contents element is longer than 4 GiB");
    }
    uint32_t length = static_cast<uint32_t>(value.size());
    const char prefix[4] = {
        static_cast<char>(length & 0xff), static_cast<char>((length >> 8) & 0xff),
        static_cast<char>((length >> 16) & 0xff), static_cast<char>((length >> 24) & 0xff)};
    raw.append(prefix, 4);
    raw.append(value);
  }
  return raw;
}

}  // namespace

std::vector<absl::string_view> PopulatedContentsFields(const InferTensorContents& contents) {
  std::vector<absl::string_view> fields;
  if (!contents.bool_contents().empty()) fields.push_back("bool_contents");
  if (!contents.int_contents().empty()) fields.push_back("int_contents");
  if (!contents.int64_contents().empty()) fields.push_back("int64_contents");
  if (!contents.uint_contents().empty()) fields.push_back("uint_contents");
  if (!contents.uint64_contents().empty()) fields.push_back("uint64_contents");
  if (!contents.fp32_contents().empty()) fields.push_back("fp32_contents");
  if (!contents.fp64_contents().empty()) fields.push_back("fp64_contents");
  if (!contents.bytes_contents().empty()) fields.push_back("bytes_contents");
  return fields;
}

absl::StatusOr<std::string> ContentsToRaw(const InferTensorContents& contents, DataType type,
                                          int64_t elements) {
  SONIC_RETURN_IF_ERROR(CheckContentsField(contents, type));
  const absl::string_view field = *ContentsFieldFor(type);
  switch (type) {
    case DataType::kBool:
      return PackValues<uint8_t>(contents.bool_contents(), field, elements, type);
    case DataType::kInt8:
      return PackValues<int8_t>(contents.int_contents(), field, elements, type);
    case DataType::kInt16:
      return PackValues<int16_t>(contents.int_contents(), field, elements, type);
    case DataType::kInt32:
      return PackValues<int32_t>(contents.int_contents(), field, elements, type);
    case DataType::kInt64:
      return PackValues<int64_t>(contents.int64_contents(), field, elements, type);
    case DataType::kUint8:
      return PackValues<uint8_t>(contents.uint_contents(), field, elements, type);
    case DataType::kUint16:
      return PackValues<uint16_t>(contents.uint_contents(), field, elements, type);
    case DataType::kUint32:
      return PackValues<uint32_t>(contents.uint_contents(), field, elements, type);
    case DataType::kUint64:
      return PackValues<uint64_t>(contents.uint64_contents(), field, elements, type);
    case DataType::kFp32:
      return PackValues<float>(contents.fp32_contents(), field, elements, type);
    case DataType::kFp64:
      return PackValues<double>(contents.fp64_contents(), field, elements, type);
    case DataType::kBytes:
      return PackStrings(contents.bytes_contents(), elements);
    default:
      return absl::InternalError("no typed contents for this datatype");  // unreachable
  }
}

}  // namespace sonic::server
