#include "perf_options.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sonic::tools {

absl::StatusOr<LoadRange> ParseLoadRange(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  if (parts.empty() || parts.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "': expected start[:end[:step]]"));
  }
  double values[3] = {0, 0, 1};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!absl::SimpleAtod(parts[i], &values[i])) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "': '", parts[i],
                                                     "' is not a number"));
    }
  }
  LoadRange range{values[0], parts.size() > 1 ? values[1] : values[0], values[2]};
  if (!(range.start > 0) || !(range.end >= range.start || range.end == 0) ||
      !(range.step > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "': needs start > 0, end >= start (or 0: no end) and step > 0"));
  }
  return range;
}

std::vector<double> LoadLevels(const LoadRange& range) {
  std::vector<double> levels;
  if (range.unbounded()) return levels;
  const double tolerance = range.step * 1e-9;
  for (int i = 0;; ++i) {
    const double level = range.start + i * range.step;
    if (level > range.end + tolerance) break;
    levels.push_back(level);
  }
  return levels;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseHeader(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("-H '", text, "': expected 'Name: value'"));
  }
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(0, colon)));
  const std::string value(absl::StripAsciiWhitespace(text.substr(colon + 1)));
  const bool name_ok =
      !name.empty() && !name.starts_with("grpc-") &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_' ||
               c == '.';
      });
  if (!name_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "-H '", text, "': a header name is letters, digits, '-', '_' or '.', not grpc-*"));
  }
  if (std::any_of(value.begin(), value.end(),
                  [](char c) { return c < 0x20 || c == 0x7f; })) {
    return absl::InvalidArgumentError(
        absl::StrCat("-H '", name, "': the value has control characters"));
  }
  return std::pair{std::move(name), value};
}

}  // namespace sonic::tools
