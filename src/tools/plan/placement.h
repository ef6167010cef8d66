// Where the models go: every model on every device, or models split across devices and packed
// by load and memory. Stateless functions; thread-safe.
//
// A model's load is in devices' worth (its entries per second / the entries per second one
// device sustains for it), so a device at load 1 is saturated and the target utilization u is
// the load each device may carry.
//   - everywhere: each of N devices holds every model (all their instances' memory) and 1/N of
//     each model's requests; N = max(1, ceil(total load / u)).
//   - split: each model fills floor(load / u) devices of its own at load u; the remainders (each
//     below u) are packed first-fit in decreasing order of load into devices with load <= u and
//     memory within the device's.
#pragma once

#include <string>
#include <vector>

namespace sonic::tools {

// What placement needs of a model.
struct PlacementItem {
  double load = 0;       // devices' worth
  double memory_mb = 0;  // all its instances on one device
};

// A share of one model's requests on a device.
struct DeviceShare {
  size_t model = 0;      // index into the items
  double fraction = 0;   // of the model's requests, on each device of the group
};

// `count` devices that carry the same shares.
struct DeviceGroup {
  int count = 1;
  std::vector<DeviceShare> shares;
  double load = 0;       // per device
  double memory_mb = 0;  // per device
};

enum class PlacementKind { kEverywhere, kSplit };

struct Placement {
  PlacementKind kind = PlacementKind::kEverywhere;
  bool feasible = true;
  std::string reason;  // why not, when not feasible
  int devices = 0;
  std::vector<DeviceGroup> groups;
};

// `memory_limit_mb` 0: not limited. `target` in (0, 1].
Placement PlaceEverywhere(const std::vector<PlacementItem>& items, double target,
                          double memory_limit_mb);
Placement PlaceSplit(const std::vector<PlacementItem>& items, double target,
                     double memory_limit_mb);

// The placement with fewer devices among the feasible ones; everywhere on a tie (one pool of
// identical servers balances any mix of requests). `everywhere` when neither is feasible.
const Placement& ChoosePlacement(const Placement& everywhere, const Placement& split);

const char* PlacementName(PlacementKind kind);

}  // namespace sonic::tools
