#include "server/frontend/classification.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sonic::server {
namespace {

template <typename T>
std::vector<double> Values(const std::string& data) {
  std::vector<double> values(data.size() / sizeof(T));
  for (size_t i = 0; i < values.size(); ++i) {
    T value;
    std::memcpy(&value, data.data() + i * sizeof(T), sizeof(T));
    values[i] = static_cast<double>(value);
  }
  return values;
}

bool ReadValues(const OutputTensor& output, std::vector<double>& values) {
  switch (output.type) {
    case DataType::kUint8:
      values = Values<uint8_t>(output.data);
      return true;
    case DataType::kUint16:
      values = Values<uint16_t>(output.data);
      return true;
    case DataType::kUint32:
      values = Values<uint32_t>(output.data);
      return true;
    case DataType::kUint64:
      values = Values<uint64_t>(output.data);
      return true;
    case DataType::kInt8:
      values = Values<int8_t>(output.data);
      return true;
    case DataType::kInt16:
      values = Values<int16_t>(output.data);
      return true;
    case DataType::kInt32:
      values = Values<int32_t>(output.data);
      return true;
    case DataType::kInt64:
      values = Values<int64_t>(output.data);
      return true;
    case DataType::kFp32:
      values = Values<float>(output.data);
      return true;
    case DataType::kFp64:
      values = Values<double>(output.data);
      return true;
    default:
      return false;
  }
}

std::string FormatValue(DataType type, double value) {
  if (type == DataType::kFp32 || type == DataType::kFp64) return absl::StrFormat("%f", value);
  return absl::StrFormat("%.0f", value);
}

// Appends one BYTES element (4-byte little-endian length, then the bytes).
void AppendElement(std::string& data, const std::string& element) {
  const uint32_t size = static_cast<uint32_t>(element.size());
  char prefix[4] = {static_cast<char>(size & 0xff), static_cast<char>((size >> 8) & 0xff),
                    static_cast<char>((size >> 16) & 0xff), static_cast<char>(size >> 24)};
  data.append(prefix, 4);
  data.append(element);
}

}  // namespace

absl::Status Classify(OutputTensor& output, uint64_t k, bool batched,
                      const std::vector<std::string>* labels) {
  std::vector<double> values;
  if (!ReadValues(output, values)) {
    return absl::InvalidArgumentError(
        absl::StrCat("output '", output.name, "' cannot be classified: its type ",
                     std::string(WireName(output.type)), " has no order"));
  }
  const int64_t entries =
      batched && !output.shape.empty() ? std::max<int64_t>(output.shape[0], 0) : 1;
  const size_t classes = entries == 0 ? 0 : values.size() / static_cast<size_t>(entries);
  const size_t top = std::min<size_t>(k, classes);
  std::string data;
  std::vector<size_t> order(classes);
  for (int64_t entry = 0; entry < entries; ++entry) {
    const double* row = values.data() + static_cast<size_t>(entry) * classes;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [row](size_t a, size_t b) { return row[a] > row[b]; });
    for (size_t i = 0; i < top; ++i) {
      std::string element = absl::StrCat(FormatValue(output.type, row[order[i]]), ":", order[i]);
      if (labels != nullptr && order[i] < labels->size()) {
        absl::StrAppend(&element, ":", (*labels)[order[i]]);
      }
      AppendElement(data, element);
    }
  }
  output.type = DataType::kBytes;
  output.shape =
      batched ? Shape{entries, static_cast<int64_t>(top)} : Shape{static_cast<int64_t>(top)};
  output.data = std::move(data);
  return absl::OkStatus();
}

}  // namespace sonic::server
