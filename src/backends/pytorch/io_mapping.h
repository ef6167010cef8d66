// How the pytorch backend matches configuration tensors to a TorchScript module's forward()
// arguments and results, following Triton's PyTorch backend. Free of LibTorch so it is cheap to
// compile and test. Thread-safe: stateless functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sonic::backends::pytorch {

// The index of a name following Triton's "<anything>__<index>" convention ("INPUT__0" -> 0);
// nullopt when the name does not end in "__" and a decimal number.
std::optional<int> ConventionIndex(std::string_view name);

// How inputs were matched to arguments, for messages.
enum class InputMatching { kByName, kByConventionIndex, kByConfigOrder };

struct InputMapping {
  InputMatching matching;
  // argument_to_input[p]: the index (in `input_names`) of the input passed as forward()'s p-th
  // argument (not counting self).
  std::vector<int> argument_to_input;
};

// Matches the configuration's inputs (`input_names`: config inputs then batch-input targets) to
// forward()'s arguments (`argument_names`, without self), trying in turn:
//  1. by name, when the two lists hold the same names;
//  2. by the "__<index>" convention, when every input name follows it and the indices are
//     exactly 0..n-1 (the index is the argument position);
//  3. by configuration order.
// INVALID_ARGUMENT when the counts differ, naming both lists.
absl::StatusOr<InputMapping> MapInputs(std::span<const std::string> argument_names,
                                       std::span<const std::string> input_names);

// For a forward() returning a tuple or list: position_of_output[i] is the position in the result
// of config output i — its "__<index>" when every output name follows the convention with
// distinct indices, else i (configuration order).
std::vector<int> MapOutputPositions(std::span<const std::string> output_names);

}  // namespace sonic::backends::pytorch
