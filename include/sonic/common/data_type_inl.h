// Compile-time part of data_type.h; include data_type.h instead.
#pragma once

#include <type_traits>

namespace sonic {

template <typename T>
constexpr DataType DataTypeOf() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) return DataType::kBool;
  else if constexpr (std::is_same_v<U, uint8_t>) return DataType::kUint8;
  else if constexpr (std::is_same_v<U, uint16_t>) return DataType::kUint16;
  else if constexpr (std::is_same_v<U, uint32_t>) return DataType::kUint32;
  else if constexpr (std::is_same_v<U, uint64_t>) return DataType::kUint64;
  else if constexpr (std::is_same_v<U, int8_t>) return DataType::kInt8;
  else if constexpr (std::is_same_v<U, int16_t>) return DataType::kInt16;
  else if constexpr (std::is_same_v<U, int32_t>) return DataType::kInt32;
  else if constexpr (std::is_same_v<U, int64_t>) return DataType::kInt64;
  else if constexpr (std::is_same_v<U, float>) return DataType::kFp32;
  else if constexpr (std::is_same_v<U, double>) return DataType::kFp64;
  else static_assert(sizeof(U) == 0, "no DataType for this C++ type");
}

}  // namespace sonic
