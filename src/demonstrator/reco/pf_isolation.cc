#include "demonstrator/reco/pf_isolation.h"

#include <cmath>

#include "sonic/common/status.h"

namespace sonic::demo {

PfIsolation ComputeIsolation(const EventData& event, int cones) {
  PfIsolation result;
  const std::vector<PfCandidate>& candidates = event.candidates;
  for (int k = 0; k < cones; ++k) {
    const float cone = cones == 1 ? 0.3f : 0.2f + 0.2f * static_cast<float>(k) / (cones - 1);
    const float cone2 = cone * cone;
    double sum = 0;
    int charged = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      const PfCandidate& c = candidates[i];
      if (c.charge == 0) continue;
      float around = 0;
      for (size_t j = 0; j < candidates.size(); ++j) {
        if (j == i) continue;
        const float d_eta = candidates[j].eta - c.eta;
        const float d_phi = DeltaPhi(candidates[j].phi, c.phi);
        if (d_eta * d_eta + d_phi * d_phi < cone2) around += candidates[j].pt;
      }
      sum += around / c.pt;
      ++charged;
    }
    result.cone_sizes.push_back(cone);
    result.mean_isolation.push_back(charged > 0 ? static_cast<float>(sum / charged) : 0.0f);
  }
  return result;
}

absl::Status PfIsolationProducer::produce(framework::Event& event) {
  SONIC_ASSIGN_OR_RETURN(const EventData* data, event.get<EventData>(kEventDataLabel));
  event.put(label(), ComputeIsolation(*data, cones_));
  return absl::OkStatus();
}

}  // namespace sonic::demo
