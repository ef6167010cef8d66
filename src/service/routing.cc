#include "routing.h"

#include <tuple>

namespace sonic::service::internal {

int ChooseServer(const std::vector<RouteCandidate>& candidates, const std::string& preferred,
                 const std::string& excluded_address) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    const RouteCandidate& c = candidates[i];
    if (!c.healthy || !c.serves_model) continue;
    if (!excluded_address.empty() && c.address == excluded_address) continue;
    if (!preferred.empty() && c.name == preferred) return i;
    if (best < 0 || std::tie(c.load, c.latency_ms, c.name) <
                        std::tie(candidates[best].load, candidates[best].latency_ms,
                                 candidates[best].name)) {
      best = i;
    }
  }
  return best;
}

int ChooseRetryServer(const std::vector<RouteCandidate>& candidates,
                      const std::string& excluded_address) {
  int best = -1;
  auto rank = [](const RouteCandidate& c) {
    return std::tie(c.recent_failures, c.queue_ms, c.load, c.latency_ms, c.name);
  };
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    const RouteCandidate& c = candidates[i];
    if (!c.healthy || !c.serves_model || c.address == excluded_address) continue;
    if (best < 0 || rank(c) < rank(candidates[best])) best = i;
  }
  return best;
}

int ChooseLessLoadedServer(const std::vector<RouteCandidate>& candidates,
                           const std::string& current_address) {
  int best = -1;
  int current = -1;
  auto rank = [](const RouteCandidate& c) { return std::tie(c.recent_overloads, c.queue_ms); };
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    const RouteCandidate& c = candidates[i];
    if (!c.healthy || !c.serves_model) continue;
    if (c.address == current_address) current = i;
    if (best < 0 || rank(c) < rank(candidates[best])) best = i;
  }
  if (current >= 0 && !(rank(candidates[best]) < rank(candidates[current]))) return current;
  return best;
}

}  // namespace sonic::service::internal
