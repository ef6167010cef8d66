#include "placement.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sonic::tools {
namespace {

// Loads are sums of measured rates: compare them with a little room for rounding.
constexpr double kSlack = 1e-9;

bool Fits(double memory_mb, double memory_limit_mb) {
  return memory_limit_mb <= 0 || memory_mb <= memory_limit_mb + kSlack;
}

struct Remainder {
  size_t model = 0;
  double load = 0;
};

// First-fit decreasing of the remainders into devices of load <= target.
std::vector<DeviceGroup> PackRemainders(std::vector<Remainder> remainders,
                                        const std::vector<PlacementItem>& items, double target,
                                        double memory_limit_mb) {
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const Remainder& a, const Remainder& b) { return a.load > b.load; });
  std::vector<DeviceGroup> bins;
  for (const Remainder& r : remainders) {
    const PlacementItem& item = items[r.model];
    auto bin = std::find_if(bins.begin(), bins.end(), [&](const DeviceGroup& b) {
      return b.load + r.load <= target + kSlack && Fits(b.memory_mb + item.memory_mb, memory_limit_mb);
    });
    if (bin == bins.end()) bin = bins.insert(bins.end(), DeviceGroup{});
    bin->shares.push_back({r.model, r.load / item.load});
    bin->load += r.load;
    bin->memory_mb += item.memory_mb;
  }
  return bins;
}

}  // namespace

Placement PlaceEverywhere(const std::vector<PlacementItem>& items, double target,
                          double memory_limit_mb) {
  Placement placement;
  placement.kind = PlacementKind::kEverywhere;
  DeviceGroup group;
  double total = 0;
  for (const PlacementItem& item : items) {
    total += item.load;
    group.memory_mb += item.memory_mb;
  }
  if (!Fits(group.memory_mb, memory_limit_mb)) {
    placement.feasible = false;
    placement.reason = absl::StrFormat("all models need %.0f MB on each device, it has %.0f MB",
                                       group.memory_mb, memory_limit_mb);
    return placement;
  }
  group.count = std::max(1, static_cast<int>(std::ceil(total / target - kSlack)));
  group.load = total / group.count;
  for (size_t i = 0; i < items.size(); ++i) group.shares.push_back({i, 1.0 / group.count});
  placement.devices = group.count;
  placement.groups.push_back(group);
  return placement;
}

Placement PlaceSplit(const std::vector<PlacementItem>& items, double target,
                     double memory_limit_mb) {
  Placement placement;
  placement.kind = PlacementKind::kSplit;
  std::vector<Remainder> remainders;
  for (size_t i = 0; i < items.size(); ++i) {
    const PlacementItem& item = items[i];
    if (!Fits(item.memory_mb, memory_limit_mb)) {
      placement.feasible = false;
      placement.reason = absl::StrFormat("model %d alone needs %.0f MB, a device has %.0f MB",
                                         i, item.memory_mb, memory_limit_mb);
      return placement;
    }
    if (item.load <= 0) continue;
    const int full = static_cast<int>(std::floor(item.load / target + kSlack));
    if (full > 0) {
      placement.groups.push_back(
          {full, {{i, target / item.load}}, target, item.memory_mb});
    }
    const double rest = item.load - full * target;
    if (rest > kSlack) remainders.push_back({i, rest});
  }
  for (DeviceGroup& bin : PackRemainders(remainders, items, target, memory_limit_mb)) {
    placement.groups.push_back(std::move(bin));
  }
  for (const DeviceGroup& group : placement.groups) placement.devices += group.count;
  if (placement.devices == 0) {  // no load at all: one device still serves the models
    placement.groups.push_back({1, {}, 0, 0});
    for (size_t i = 0; i < items.size(); ++i) {
      placement.groups.back().shares.push_back({i, 1.0});
      placement.groups.back().memory_mb += items[i].memory_mb;
    }
    placement.devices = 1;
  }
  return placement;
}

const Placement& ChoosePlacement(const Placement& everywhere, const Placement& split) {
  if (!split.feasible) return everywhere;
  if (!everywhere.feasible) return split;
  return split.devices < everywhere.devices ? split : everywhere;
}

const char* PlacementName(PlacementKind kind) {
  return kind == PlacementKind::kEverywhere ? "everywhere" : "split";
}

}  // namespace sonic::tools
