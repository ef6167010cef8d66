// The pre-processing of the demonstrator's models: from an event's objects to the models' input
// tensors (model_shapes.h), one entry per object. Shared by the SONIC and the direct modules, so
// both runs see the same inputs. Pure functions.
#pragma once

#include <vector>

#include "demonstrator/events/event_data.h"
#include "demonstrator/ml/inference_engine.h"

namespace sonic::demo {

// ParticleNet inputs, one entry per jet (in jet order). Per constituent (by decreasing pt):
// points (delta eta, delta phi) to the jet axis and 16 features: delta eta, delta phi, log pt,
// log E, log(pt / jet pt), log(E / jet E), delta R, charge, the type one-hot (5), tanh(50 dxy),
// tanh(10 dz), hits / 20.
//  padded: pf_points [2, 100], pf_features [16, 100] (channels first), pf_mask [1, 100]; jets
//          with more than 100 constituents keep their 100 hardest.
//  ragged: pf_points [n, 2], pf_features [n, 16] with n the jet's constituents (all of them).
std::vector<NamedInput> ParticleNetInputs(const EventData& event, const std::vector<Jet>& jets,
                                          bool padded);

// DeepMET inputs, one entry (the event): pf_cont [n, 6] (pt, eta, phi, PUPPI weight, dxy, dz)
// and pf_cat [n, 3] (charge + 1, type, from_pv) for every candidate, in event order.
std::vector<NamedInput> DeepMetInputs(const EventData& event);

// DeepTau inputs, one entry per tau candidate (in tau order):
//  tau_features [16]: pt / 100, eta, phi, log pt, charge, decay mode one-hot (0, 1, 10), signal
//    charged and neutral counts, leading signal pt / tau pt, charged and neutral isolation
//    (sum pt within delta R 0.5 outside the signal, / tau pt), tanh(50 dxy) and tanh(10 dz) of
//    the leading track, visible mass of the signal;
//  inner_grid [11, 11, 10] (0.02 cells) and outer_grid [21, 21, 10] (0.05 cells) around the tau
//    axis, channels last; per cell: log(1 + sum pt) of charged hadrons, neutral hadrons, photons,
//    electrons, muons; charged count; neutral count; log(1 + max pt); log(1 + PUPPI-weighted
//    sum pt); mean tanh(50 dxy) of the charged candidates.
std::vector<NamedInput> DeepTauInputs(const EventData& event);

}  // namespace sonic::demo
