#include "demonstrator/ml/features.h"

#include <algorithm>
#include <cmath>

#include "demonstrator/models/model_shapes.h"

namespace sonic::demo {
namespace {

using namespace models;

NamedInput MakeInput(std::string_view name, size_t entries) {
  return {std::string(name), std::vector<Shape>(entries),
          std::make_shared<client::TritonInput<float>>(entries)};
}

bool IsCharged(const PfCandidate& c) { return c.charge != 0; }

float CandidateEnergy(const PfCandidate& c) {
  const float p = c.pt * std::cosh(c.eta);
  return std::sqrt(p * p + c.mass * c.mass);
}

// The 16 ParticleNet features of constituent `c` of `jet`, appended to `out` (one value per
// feature, consecutive).
void AppendConstituentFeatures(const PfCandidate& c, const Jet& jet, std::vector<float>& out) {
  const float d_eta = c.eta - jet.eta;
  const float d_phi = DeltaPhi(c.phi, jet.phi);
  const float energy = CandidateEnergy(c);
  out.insert(out.end(), {d_eta, d_phi, std::log(c.pt), std::log(energy),
                         std::log(c.pt / jet.pt), std::log(energy / jet.energy),
                         std::hypot(d_eta, d_phi), static_cast<float>(c.charge)});
  for (int type = 0; type < kParticleTypes; ++type) {
    out.push_back(static_cast<int>(c.type) == type ? 1.0f : 0.0f);
  }
  out.insert(out.end(),
             {std::tanh(50 * c.dxy), std::tanh(10 * c.dz), static_cast<float>(c.hits) / 20});
}

}  // namespace

std::vector<NamedInput> ParticleNetInputs(const EventData& event, const std::vector<Jet>& jets,
                                          bool padded) {
  NamedInput points = MakeInput(kPfPoints, jets.size());
  NamedInput features = MakeInput(kPfFeatures, jets.size());
  NamedInput mask = MakeInput(kPfMask, jets.size());
  constexpr size_t kSlots = kParticleNetMaxConstituents;
  std::vector<float> row;
  for (size_t j = 0; j < jets.size(); ++j) {
    const Jet& jet = jets[j];
    const size_t n = padded ? std::min(jet.constituents.size(), kSlots) : jet.constituents.size();
    std::vector<float>& p = (*points.data)[j];
    std::vector<float>& f = (*features.data)[j];
    if (padded) {
      p.assign(kParticleNetCoordinates * kSlots, 0);
      f.assign(kParticleNetFeatures * kSlots, 0);
      (*mask.data)[j].assign(kSlots, 0);
      points.shapes[j] = {kParticleNetCoordinates, kParticleNetMaxConstituents};
      features.shapes[j] = {kParticleNetFeatures, kParticleNetMaxConstituents};
      mask.shapes[j] = {1, kParticleNetMaxConstituents};
    } else {
      p.reserve(kParticleNetCoordinates * n);
      f.reserve(kParticleNetFeatures * n);
      points.shapes[j] = {static_cast<int64_t>(n), kParticleNetCoordinates};
      features.shapes[j] = {static_cast<int64_t>(n), kParticleNetFeatures};
    }
    for (size_t i = 0; i < n; ++i) {
      row.clear();
      AppendConstituentFeatures(event.candidates[jet.constituents[i]], jet, row);
      if (padded) {  // channels first: feature c of constituent i at c * slots + i
        for (size_t c = 0; c < kParticleNetCoordinates; ++c) p[c * kSlots + i] = row[c];
        for (size_t c = 0; c < kParticleNetFeatures; ++c) f[c * kSlots + i] = row[c];
        (*mask.data)[j][i] = 1;
      } else {
        p.insert(p.end(), row.begin(), row.begin() + kParticleNetCoordinates);
        f.insert(f.end(), row.begin(), row.end());
      }
    }
  }
  if (padded) return {std::move(points), std::move(features), std::move(mask)};
  return {std::move(points), std::move(features)};
}

std::vector<NamedInput> DeepMetInputs(const EventData& event) {
  NamedInput cont = MakeInput(kPfContinuous, 1);
  NamedInput cat = MakeInput(kPfCategorical, 1);
  const int64_t n = static_cast<int64_t>(event.candidates.size());
  cont.shapes[0] = {n, kDeepMetContinuous};
  cat.shapes[0] = {n, kDeepMetCategorical};
  std::vector<float>& c = (*cont.data)[0];
  std::vector<float>& k = (*cat.data)[0];
  c.reserve(static_cast<size_t>(n * kDeepMetContinuous));
  k.reserve(static_cast<size_t>(n * kDeepMetCategorical));
  for (const PfCandidate& p : event.candidates) {
    c.insert(c.end(), {p.pt, p.eta, p.phi, p.puppi_weight, p.dxy, p.dz});
    k.insert(k.end(), {static_cast<float>(p.charge + 1), static_cast<float>(p.type),
                       static_cast<float>(p.from_pv)});
  }
  return {std::move(cont), std::move(cat)};
}

namespace {

constexpr int kChargedCount = 5, kNeutralCount = 6, kMaxPt = 7, kPuppiPt = 8, kMeanDxy = 9;

// Adds candidate `c` to the cell at (d_eta, d_phi) of a grid of `cells` x `cells` cells of
// `size`, if it falls in one.
void Fill(std::vector<float>& grid, int64_t cells, float size, float d_eta, float d_phi,
          const PfCandidate& c) {
  const float half = static_cast<float>(cells) * size / 2;
  if (std::abs(d_eta) >= half || std::abs(d_phi) >= half) return;
  const int64_t row = std::clamp<int64_t>(static_cast<int64_t>((d_eta + half) / size), 0, cells - 1);
  const int64_t col = std::clamp<int64_t>(static_cast<int64_t>((d_phi + half) / size), 0, cells - 1);
  float* cell = grid.data() + (row * cells + col) * kCellChannels;
  cell[static_cast<int>(c.type)] += c.pt;
  cell[IsCharged(c) ? kChargedCount : kNeutralCount] += 1;
  cell[kMaxPt] = std::max(cell[kMaxPt], c.pt);
  cell[kPuppiPt] += c.puppi_weight * c.pt;
  if (IsCharged(c)) cell[kMeanDxy] += std::tanh(50 * c.dxy);
}

// Sums become log(1 + sum); the dxy sum becomes a mean over the charged candidates.
void FinishGrid(std::vector<float>& grid) {
  for (size_t cell = 0; cell < grid.size(); cell += kCellChannels) {
    float* v = grid.data() + cell;
    for (int type = 0; type < kParticleTypes; ++type) v[type] = std::log1p(v[type]);
    v[kMaxPt] = std::log1p(v[kMaxPt]);
    v[kPuppiPt] = std::log1p(v[kPuppiPt]);
    if (v[kChargedCount] > 0) v[kMeanDxy] /= v[kChargedCount];
  }
}

}  // namespace

std::vector<NamedInput> DeepTauInputs(const EventData& event) {
  const size_t taus = event.taus.size();
  NamedInput features = MakeInput(kTauFeatures, taus);
  NamedInput inner = MakeInput(kInnerGrid, taus);
  NamedInput outer = MakeInput(kOuterGrid, taus);
  for (size_t t = 0; t < taus; ++t) {
    const TauCandidate& tau = event.taus[t];
    features.shapes[t] = {kDeepTauFeatures};
    inner.shapes[t] = {kInnerCells, kInnerCells, kCellChannels};
    outer.shapes[t] = {kOuterCells, kOuterCells, kCellChannels};
    std::vector<float>& in = (*inner.data)[t];
    std::vector<float>& out = (*outer.data)[t];
    in.assign(kInnerCells * kInnerCells * kCellChannels, 0);
    out.assign(kOuterCells * kOuterCells * kCellChannels, 0);
    float iso_charged = 0, iso_neutral = 0;
    for (uint32_t i = 0; i < event.candidates.size(); ++i) {
      const PfCandidate& c = event.candidates[i];
      const float d_eta = c.eta - tau.eta, d_phi = DeltaPhi(c.phi, tau.phi);
      Fill(in, kInnerCells, kInnerCellSize, d_eta, d_phi, c);
      Fill(out, kOuterCells, kOuterCellSize, d_eta, d_phi, c);
      if (std::hypot(d_eta, d_phi) < 0.5f &&
          std::find(tau.signal.begin(), tau.signal.end(), i) == tau.signal.end()) {
        (IsCharged(c) ? iso_charged : iso_neutral) += c.pt;
      }
    }
    FinishGrid(in);
    FinishGrid(out);
    int charged = 0, neutral = 0;
    double px = 0, py = 0, pz = 0, e = 0;
    for (uint32_t i : tau.signal) {
      const PfCandidate& c = event.candidates[i];
      (IsCharged(c) ? charged : neutral) += 1;
      px += c.pt * std::cos(c.phi);
      py += c.pt * std::sin(c.phi);
      pz += c.pt * std::sinh(c.eta);
      e += CandidateEnergy(c);
    }
    const PfCandidate& lead = event.candidates[tau.signal.front()];
    const double mass2 = e * e - px * px - py * py - pz * pz;
    (*features.data)[t] = {tau.pt / 100,
                           tau.eta,
                           tau.phi,
                           std::log(tau.pt),
                           static_cast<float>(tau.charge),
                           tau.decay_mode == 0 ? 1.0f : 0.0f,
                           tau.decay_mode == 1 ? 1.0f : 0.0f,
                           tau.decay_mode == 10 ? 1.0f : 0.0f,
                           static_cast<float>(charged),
                           static_cast<float>(neutral),
                           lead.pt / tau.pt,
                           iso_charged / tau.pt,
                           iso_neutral / tau.pt,
                           std::tanh(50 * lead.dxy),
                           std::tanh(10 * lead.dz),
                           static_cast<float>(std::sqrt(std::max(mass2, 0.0)))};
  }
  return {std::move(features), std::move(inner), std::move(outer)};
}

}  // namespace sonic::demo
