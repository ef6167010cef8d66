#include "perf_options.h"

#include <vector>

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
  if (!(range.start > 0) || !(range.end >= range.start) || !(range.step > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': needs start > 0, end >= start and step > 0"));
  }
  return range;
}

std::vector<double> LoadLevels(const LoadRange& range) {
  std::vector<double> levels;
  const double tolerance = range.step * 1e-9;
  for (int i = 0;; ++i) {
    const double level = range.start + i * range.step;
    if (level > range.end + tolerance) break;
    levels.push_back(level);
  }
  return levels;
}

}  // namespace sonic::tools
