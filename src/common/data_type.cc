#include "sonic/common/data_type.h"

#include <array>

namespace sonic {
namespace {

struct TypeInfo {
  DataType type;
  std::string_view wire;
  std::string_view config;
  size_t size;
};

// Indexed by the enum number.
constexpr std::array<TypeInfo, 15> kTypes = {{
    {DataType::kInvalid, "INVALID", "TYPE_INVALID", 0},
    {DataType::kBool, "BOOL", "TYPE_BOOL", 1},
    {DataType::kUint8, "UINT8", "TYPE_UINT8", 1},
    {DataType::kUint16, "UINT16", "TYPE_UINT16", 2},
    {DataType::kUint32, "UINT32", "TYPE_UINT32", 4},
    {DataType::kUint64, "UINT64", "TYPE_UINT64", 8},
    {DataType::kInt8, "INT8", "TYPE_INT8", 1},
    {DataType::kInt16, "INT16", "TYPE_INT16", 2},
    {DataType::kInt32, "INT32", "TYPE_INT32", 4},
    {DataType::kInt64, "INT64", "TYPE_INT64", 8},
    {DataType::kFp16, "FP16", "TYPE_FP16", 2},
    {DataType::kFp32, "FP32", "TYPE_FP32", 4},
    {DataType::kFp64, "FP64", "TYPE_FP64", 8},
    {DataType::kBytes, "BYTES", "TYPE_STRING", 0},
    {DataType::kBf16, "BF16", "TYPE_BF16", 2},
}};

const TypeInfo& Info(DataType type) {
  auto index = static_cast<size_t>(type);
  return index < kTypes.size() ? kTypes[index] : kTypes[0];
}

}  // namespace

std::string_view WireName(DataType type) { return Info(type).wire; }
std::string_view ConfigName(DataType type) { return Info(type).config; }
size_t ElementSize(DataType type) { return Info(type).size; }

std::optional<DataType> DataTypeFromWireName(std::string_view name) {
  for (const TypeInfo& info : kTypes) {
    if (info.type != DataType::kInvalid && info.wire == name) return info.type;
  }
  return std::nullopt;
}

std::optional<DataType> DataTypeFromConfigName(std::string_view name) {
  for (const TypeInfo& info : kTypes) {
    if (info.type != DataType::kInvalid && info.config == name) return info.type;
  }
  return std::nullopt;
}

std::optional<DataType> DataTypeFromNumber(int32_t number) {
  if (number <= 0 || number >= static_cast<int32_t>(kTypes.size())) return std::nullopt;
  return kTypes[number].type;
}

}  // namespace sonic
