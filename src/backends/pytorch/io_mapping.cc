#include "backends/pytorch/io_mapping.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sonic::backends::pytorch {
namespace {

// Indices of `names` under the convention when all follow it with distinct indices.
std::optional<std::vector<int>> ConventionIndices(std::span<const std::string> names) {
  std::vector<int> indices;
  std::set<int> seen;
  for (const std::string& name : names) {
    std::optional<int> index = ConventionIndex(name);
    if (!index.has_value() || !seen.insert(*index).second) return std::nullopt;
    indices.push_back(*index);
  }
  return indices;
}

}  // namespace

std::optional<int> ConventionIndex(std::string_view name) {
  const size_t separator = name.rfind("__");
  if (separator == std::string_view::npos) return std::nullopt;
  std::string_view digits = name.substr(separator + 2);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int index = 0;
  if (!absl::SimpleAtoi(std::string(digits), &index)) return std::nullopt;
  return index;
}

absl::StatusOr<InputMapping> MapInputs(std::span<const std::string> argument_names,
                                       std::span<const std::string> input_names) {
  const size_t n = input_names.size();
  if (argument_names.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("forward() takes ", argument_names.size(), " arguments (",
                     absl::StrJoin(argument_names, ", "), ") but the configuration has ", n,
                     " inputs (", absl::StrJoin(input_names, ", "), ")"));
  }
  InputMapping mapping{InputMatching::kByName, std::vector<int>(n, -1)};
  for (size_t p = 0; p < n; ++p) {
    auto it = std::find(input_names.begin(), input_names.end(), argument_names[p]);
    if (it == input_names.end()) {
      mapping.matching = InputMatching::kByConfigOrder;
      break;
    }
    mapping.argument_to_input[p] = static_cast<int>(it - input_names.begin());
  }
  if (mapping.matching == InputMatching::kByName) return mapping;

  if (std::optional<std::vector<int>> indices = ConventionIndices(input_names);
      indices.has_value() && std::all_of(indices->begin(), indices->end(),
                                         [n](int index) { return index < static_cast<int>(n); })) {
    mapping.matching = InputMatching::kByConventionIndex;
    for (size_t i = 0; i < n; ++i) mapping.argument_to_input[(*indices)[i]] = static_cast<int>(i);
    return mapping;
  }
  for (size_t p = 0; p < n; ++p) mapping.argument_to_input[p] = static_cast<int>(p);
  return mapping;
}

std::vector<int> MapOutputPositions(std::span<const std::string> output_names) {
  if (std::optional<std::vector<int>> indices = ConventionIndices(output_names)) return *indices;
  std::vector<int> positions(output_names.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int>(i);
  return positions;
}

}  // namespace sonic::backends::pytorch
