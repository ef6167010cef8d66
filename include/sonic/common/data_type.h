// Tensor element types and their four spellings: the model-configuration enum (TYPE_FP32), the
// wire string of the inference protocol ("FP32"), the C++ type (float) and the element size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sonic {

// Values equal the model_config.proto DataType numbers, so a cast converts between the two and
// backends can pass them through the C interface unchanged.
enum class DataType : int32_t {
  kInvalid = 0,
  kBool = 1,
  kUint8 = 2,
  kUint16 = 3,
  kUint32 = 4,
  kUint64 = 5,
  kInt8 = 6,
  kInt16 = 7,
  kInt32 = 8,
  kInt64 = 9,
  kFp16 = 10,
  kFp32 = 11,
  kFp64 = 12,
  kBytes = 13,  // TYPE_STRING in config.pbtxt, "BYTES" on the wire
  kBf16 = 14,
};

// "FP32", "BYTES", ...; "INVALID" for kInvalid.
std::string_view WireName(DataType type);
// The inverse of WireName; nullopt for an unknown string (and for "INVALID").
std::optional<DataType> DataTypeFromWireName(std::string_view name);

// "TYPE_FP32", "TYPE_STRING", ...
std::string_view ConfigName(DataType type);
std::optional<DataType> DataTypeFromConfigName(std::string_view name);
// A DataType from a raw enum number (config proto or C interface); nullopt when out of range.
std::optional<DataType> DataTypeFromNumber(int32_t number);

// Bytes per element; 0 for BYTES (variable length) and kInvalid. Raw BOOL is one byte.
size_t ElementSize(DataType type);

// The DataType of a C++ element type: DataTypeOf<float>() == DataType::kFp32. FP16 and BF16 have
// no C++ type here; they are handled as raw 2-byte elements.
template <typename T>
constexpr DataType DataTypeOf();

}  // namespace sonic

#include "sonic/common/data_type_inl.h"
