#include "tensor_data.h"

#include <cmath>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sonic::tools {
namespace {

// How a random value of a datatype is drawn.
enum class ValueKind { kBool, kInteger, kFloat };

// One fixed-size wire datatype: how a value is stored into and read from its raw bytes.
struct FixedType {
  std::string_view name;
  size_t byte_size;
  ValueKind kind;
  void (*store)(double value, char* out);
  double (*load)(const char* in);
};

template <typename T>
void Store(double value, char* out) {
  T typed = static_cast<T>(value);
  std::memcpy(out, &typed, sizeof(T));
}

template <typename T>
double Load(const char* in) {
  T typed;
  std::memcpy(&typed, in, sizeof(T));
  return static_cast<double>(typed);
}

// IEEE half precision, truncating; values below the smallest normal half become zero.
void StoreHalf(double value, char* out) {
  float single = static_cast<float>(value);
  uint32_t bits;
  std::memcpy(&bits, &single, sizeof(bits));
  uint16_t half = static_cast<uint16_t>((bits >> 16) & 0x8000);
  int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  if (exponent >= 31) {
    half |= 0x7c00;
  } else if (exponent > 0) {
    half |= static_cast<uint16_t>((exponent << 10) | ((bits >> 13) & 0x3ff));
  }
  std::memcpy(out, &half, sizeof(half));
}

double LoadHalf(const char* in) {
  uint16_t half;
  std::memcpy(&half, in, sizeof(half));
  double sign = (half & 0x8000) ? -1.0 : 1.0;
  int exponent = (half >> 10) & 0x1f;
  int mantissa = half & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa == 0 ? sign * HUGE_VAL : NAN;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

// bfloat16: the upper half of an IEEE single (truncating).
void StoreBf16(double value, char* out) {
  float single = static_cast<float>(value);
  uint32_t bits;
  std::memcpy(&bits, &single, sizeof(bits));
  uint16_t upper = static_cast<uint16_t>(bits >> 16);
  std::memcpy(out, &upper, sizeof(upper));
}

double LoadBf16(const char* in) {
  uint16_t upper;
  std::memcpy(&upper, in, sizeof(upper));
  uint32_t bits = static_cast<uint32_t>(upper) << 16;
  float single;
  std::memcpy(&single, &bits, sizeof(single));
  return single;
}

constexpr FixedType kFixedTypes[] = {
    {"BOOL", 1, ValueKind::kBool, Store<uint8_t>, Load<uint8_t>},
    {"UINT8", 1, ValueKind::kInteger, Store<uint8_t>, Load<uint8_t>},
    {"UINT16", 2, ValueKind::kInteger, Store<uint16_t>, Load<uint16_t>},
    {"UINT32", 4, ValueKind::kInteger, Store<uint32_t>, Load<uint32_t>},
    {"UINT64", 8, ValueKind::kInteger, Store<uint64_t>, Load<uint64_t>},
    {"INT8", 1, ValueKind::kInteger, Store<int8_t>, Load<int8_t>},
    {"INT16", 2, ValueKind::kInteger, Store<int16_t>, Load<int16_t>},
    {"INT32", 4, ValueKind::kInteger, Store<int32_t>, Load<int32_t>},
    {"INT64", 8, ValueKind::kInteger, Store<int64_t>, Load<int64_t>},
    {"FP16", 2, ValueKind::kFloat, StoreHalf, LoadHalf},
    {"FP32", 4, ValueKind::kFloat, Store<float>, Load<float>},
    {"FP64", 8, ValueKind::kFloat, Store<double>, Load<double>},
    {"BF16", 2, ValueKind::kFloat, StoreBf16, LoadBf16},
};

const FixedType* FindFixedType(std::string_view datatype) {
  for (const FixedType& type : kFixedTypes) {
    if (type.name == datatype) return &type;
  }
  return nullptr;
}

double DrawValue(ValueKind kind, InputData data, std::mt19937_64& rng) {
  if (data == InputData::kZero) return 0.0;
  switch (kind) {
    case ValueKind::kBool:
      return static_cast<double>(rng() % 2);
    case ValueKind::kInteger:
      return static_cast<double>(rng() % 100);
    case ValueKind::kFloat:
      return std::uniform_real_distribution<double>(-1.0, 1.0)(rng);
  }
  return 0.0;
}

void AppendBytesElement(std::string_view element, std::string& contents) {
  uint32_t length = static_cast<uint32_t>(element.size());
  contents.append(reinterpret_cast<const char*>(&length), sizeof(length));
  contents += element;
}

std::string RandomString(int64_t length, std::mt19937_64& rng) {
  static constexpr std::string_view kCharacters =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string text(static_cast<size_t>(length), ' ');
  for (char& c : text) c = kCharacters[rng() % kCharacters.size()];
  return text;
}

std::string MakeBytesContents(int64_t element_count, InputData data, std::mt19937_64& rng,
                              int64_t string_length) {
  std::string contents;
  for (int64_t i = 0; i < element_count; ++i) {
    if (data == InputData::kZero) {
      AppendBytesElement("", contents);
    } else if (string_length > 0) {
      AppendBytesElement(RandomString(string_length, rng), contents);
    } else {
      AppendBytesElement(std::to_string(rng() % 100), contents);
    }
  }
  return contents;
}

absl::StatusOr<std::vector<std::string>> FormatBytesContents(std::string_view contents,
                                                             size_t max_values, size_t* total) {
  std::vector<std::string> values;
  size_t count = 0;
  while (!contents.empty()) {
    uint32_t length = 0;
    if (contents.size() < sizeof(length)) break;
    std::memcpy(&length, contents.data(), sizeof(length));
    contents.remove_prefix(sizeof(length));
    if (contents.size() < length) break;
    if (values.size() < max_values) {
      values.push_back(
          absl::StrCat("\"", absl::CHexEscape(std::string(contents.substr(0, length))), "\""));
    }
    contents.remove_prefix(length);
    ++count;
  }
  if (!contents.empty()) {
    return absl::InvalidArgumentError("BYTES contents end inside an element");
  }
  if (total != nullptr) *total = count;
  return values;
}

template <typename T>
std::string ExactInteger(const char* in) {
  T typed;
  std::memcpy(&typed, in, sizeof(T));
  return std::to_string(typed);
}

std::string FormatValue(const FixedType& type, const char* in) {
  double value = type.load(in);
  switch (type.kind) {
    case ValueKind::kBool:
      return value != 0 ? "true" : "false";
    case ValueKind::kInteger:
      // 64-bit integers may not fit a double exactly: print them from their bytes.
      if (type.name == "INT64") return ExactInteger<int64_t>(in);
      if (type.name == "UINT64") return ExactInteger<uint64_t>(in);
      return absl::StrCat(static_cast<int64_t>(value));
    case ValueKind::kFloat:
      return absl::StrCat(value);
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> MakeInputContents(std::string_view datatype, int64_t element_count,
                                              InputData data, std::mt19937_64& rng,
                                              int64_t string_length) {
  if (element_count < 0) return absl::InvalidArgumentError("negative element count");
  if (datatype == "BYTES") return MakeBytesContents(element_count, data, rng, string_length);
  const FixedType* type = FindFixedType(datatype);
  if (type == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown datatype ", std::string(datatype)));
  }
  std::string contents(static_cast<size_t>(element_count) * type->byte_size, '\0');
  for (int64_t i = 0; i < element_count; ++i) {
    type->store(DrawValue(type->kind, data, rng), contents.data() + i * type->byte_size);
  }
  return contents;
}

absl::StatusOr<std::string> EncodeNumbers(std::string_view datatype,
                                          const std::vector<double>& values) {
  const FixedType* type = FindFixedType(datatype);
  if (type == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot encode numbers as datatype ", std::string(datatype)));
  }
  std::string contents(values.size() * type->byte_size, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    double value = type->kind == ValueKind::kBool ? (values[i] != 0 ? 1.0 : 0.0) : values[i];
    type->store(value, contents.data() + i * type->byte_size);
  }
  return contents;
}

std::string EncodeStrings(const std::vector<std::string>& values) {
  std::string contents;
  for (const std::string& value : values) AppendBytesElement(value, contents);
  return contents;
}

absl::StatusOr<std::vector<std::string>> FormatRawContents(std::string_view datatype,
                                                           std::string_view contents,
                                                           size_t max_values, size_t* total) {
  if (datatype == "BYTES") return FormatBytesContents(contents, max_values, total);
  const FixedType* type = FindFixedType(datatype);
  if (type == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown datatype ", std::string(datatype)));
  }
  if (contents.size() % type->byte_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(contents.size(), " bytes are not whole ", std::string(datatype), " elements"));
  }
  size_t count = contents.size() / type->byte_size;
  std::vector<std::string> values;
  for (size_t i = 0; i < count && i < max_values; ++i) {
    values.push_back(FormatValue(*type, contents.data() + i * type->byte_size));
  }
  if (total != nullptr) *total = count;
  return values;
}

}  // namespace sonic::tools
