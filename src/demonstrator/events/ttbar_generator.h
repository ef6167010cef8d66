// A generator of ttbar-like events with the multiplicities and shapes of CMS MiniAOD at 13 TeV
// with pileup (an approximation for load and data-flow studies, not a physics simulation). Each
// event is a function of (seed, event number) only: events can be made in any order, on any
// thread, and again for validation.
//
// What an event holds (distributions as generated):
//  - Top quarks: pt ~ 40 + Exp(mean 110) GeV; each W decays to quarks (67.6%) or to e, mu, tau
//    (one third each of the rest).
//  - Jets from b quarks (pt ~ 25 + Exp(60)), from W quarks (pt ~ 20 + Exp(40)) and from initial
//    state radiation (Poisson(1.5) jets, pt ~ 20 + Exp(30)); |eta| from a Gaussian of width 1.3
//    (ISR: 2.0) cut at 2.5 (ISR: 4.7). A hadronic top with pt above 300 GeV is boosted: its three
//    quarks are within R = 0.8 of its axis and also form one AK8 jet (the union of their
//    constituents plus soft radiation). AK4 jets below 20 GeV and AK8 jets below 170 GeV are
//    dropped. Typical: 4-8 AK4 jets, 0-2 AK8 jets.
//  - Jet constituents: Poisson with mean 6 + 0.16 pt (AK4; ~14 at 50 GeV, ~30 at 150 GeV);
//    momentum fractions from Exp(1)^1.6, normalised; angular spread Gaussian with width
//    0.10 * (40 / pt)^0.5, cut at the jet radius. Types: charged hadron 62%, photon 25%, neutral
//    hadron 11%, electron 1%, muon 1% (b jets: 3% each lepton). Tracks: dxy ~ N(0, 20 um),
//    dz ~ N(0, 100 um); in b jets 35% of tracks are displaced, |dxy| ~ Exp(mean 400 um).
//  - Hadronic taus: from W -> tau (65% hadronic), pt ~ 20 + Exp(30), decay modes 0 (50%),
//    1 (30%), 10 (20%), signal candidates within R = 0.1; plus jets faking taus (each AK4 jet of
//    pt > 20 with probability 0.25). Typical: 1-3 tau candidates.
//  - Isolated leptons from leptonic W decays, pt ~ 25 + Exp(35).
//  - Pileup and underlying event: N ~ Gaussian(650, 120) cut to [250, 1400] soft candidates,
//    pt ~ 0.3 + Exp(0.9), |eta| < 4.7 (charged only within 2.5), dz ~ N(0, 4 cm), PUPPI weights
//    near 0, from_pv 0-1.
//  Candidates in total: typically 700-1100 per event.
//
// Thread-safe (const).
#pragma once

#include <cstdint>

#include "demonstrator/events/event_data.h"

namespace sonic::demo {

class TtbarGenerator {
 public:
  explicit TtbarGenerator(uint64_t seed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }

  // The event numbered `id`; the same (seed, id) always gives the same event.
  EventData Generate(uint64_t id) const;

 private:
  uint64_t seed_;
};

}  // namespace sonic::demo
