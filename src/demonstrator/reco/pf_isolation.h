// The stand-in for the rest of reconstruction: the particle-flow isolation of every charged
// candidate (sum of the other candidates' pt within a cone, over the candidate's pt), computed
// for `cones` cone sizes from 0.2 to 0.4 — quadratic in the candidates, like much of
// reconstruction. Sized by `cones` so that the ML modules take the share of the event that
// they take in CMS (a few percent). Puts a PfIsolation under its label.
#pragma once

#include <vector>

#include "demonstrator/events/event_data.h"
#include "sonic/framework/module.h"

namespace sonic::demo {

struct PfIsolation {
  std::vector<float> cone_sizes;
  // Per cone: the mean relative isolation of the charged candidates.
  std::vector<float> mean_isolation;
};

// The isolation of `event`'s charged candidates in `cones` cones (at least 1).
PfIsolation ComputeIsolation(const EventData& event, int cones);

class PfIsolationProducer final : public framework::Module {
 public:
  PfIsolationProducer(std::string label, int cones) : Module(std::move(label)), cones_(cones) {}
  absl::Status produce(framework::Event& event) override;

 private:
  int cones_;
};

}  // namespace sonic::demo
