#include "demonstrator/ml/features.h"

#include <gtest/gtest.h>

#include "demonstrator/events/ttbar_generator.h"
#include "demonstrator/models/model_shapes.h"

namespace sonic::demo {
namespace {

using namespace models;

// An event with one AK4 jet of more than 100 constituents among others, and taus.
EventData EventWithWideJet() {
  const TtbarGenerator generator(11);
  for (uint64_t id = 0;; ++id) {
    EventData event = generator.Generate(id);
    bool wide = false;
    for (const Jet& jet : event.ak8_jets) wide |= jet.constituents.size() > 100;
    if (wide && !event.taus.empty() && !event.ak4_jets.empty()) return event;
  }
}

TEST(FeaturesTest, ParticleNetPaddedAndRaggedCarryTheSameConstituents) {
  const EventData event = EventWithWideJet();
  const std::vector<Jet>& jets = event.ak8_jets;
  const std::vector<NamedInput> padded = ParticleNetInputs(event, jets, true);
  const std::vector<NamedInput> ragged = ParticleNetInputs(event, jets, false);
  ASSERT_EQ(padded.size(), 3u);
  ASSERT_EQ(ragged.size(), 2u);
  EXPECT_EQ(padded[0].name, kPfPoints);
  EXPECT_EQ(padded[2].name, kPfMask);
  const size_t slots = kParticleNetMaxConstituents;
  for (size_t j = 0; j < jets.size(); ++j) {
    const size_t n = jets[j].constituents.size();
    EXPECT_EQ(padded[1].shapes[j], (Shape{kParticleNetFeatures, kParticleNetMaxConstituents}));
    EXPECT_EQ(ragged[1].shapes[j], (Shape{static_cast<int64_t>(n), kParticleNetFeatures}));
    ASSERT_EQ((*ragged[1].data)[j].size(), n * kParticleNetFeatures);
    const std::vector<float>& mask = (*padded[2].data)[j];
    size_t real = 0;
    for (float m : mask) real += m == 1.0f;
    EXPECT_EQ(real, std::min(n, slots));  // the 100 hardest are kept
    // Feature c of constituent i: padded at c * 100 + i, ragged at i * 16 + c.
    for (size_t i = 0; i < std::min(n, slots); ++i) {
      for (size_t c = 0; c < kParticleNetFeatures; ++c) {
        ASSERT_EQ((*padded[1].data)[j][c * slots + i],
                  (*ragged[1].data)[j][i * kParticleNetFeatures + c]);
      }
      ASSERT_EQ((*padded[0].data)[j][i], (*ragged[0].data)[j][2 * i]);  // delta eta
    }
  }
}

TEST(FeaturesTest, DeepMetHasEveryCandidateAndValidCategories) {
  const EventData event = TtbarGenerator(3).Generate(0);
  const std::vector<NamedInput> inputs = DeepMetInputs(event);
  ASSERT_EQ(inputs.size(), 2u);
  const int64_t n = static_cast<int64_t>(event.candidates.size());
  EXPECT_EQ(inputs[0].shapes[0], (Shape{n, kDeepMetContinuous}));
  EXPECT_EQ(inputs[1].shapes[0], (Shape{n, kDeepMetCategorical}));
  const std::vector<float>& cat = (*inputs[1].data)[0];
  for (size_t i = 0; i < event.candidates.size(); ++i) {
    EXPECT_GE(cat[3 * i], 0);
    EXPECT_LE(cat[3 * i], 2);      // charge + 1
    EXPECT_LT(cat[3 * i + 1], 5);  // type
    EXPECT_LE(cat[3 * i + 2], 3);  // from_pv
    EXPECT_EQ((*inputs[0].data)[0][6 * i], event.candidates[i].pt);
  }
}

TEST(FeaturesTest, DeepTauGridsCountTheCandidatesAroundTheTau) {
  const EventData event = EventWithWideJet();
  const std::vector<NamedInput> inputs = DeepTauInputs(event);
  ASSERT_EQ(inputs.size(), 3u);
  ASSERT_EQ(inputs[0].shapes.size(), event.taus.size());
  const TauCandidate& tau = event.taus[0];
  // Charged candidates within the outer grid (|d eta|, |d phi| < 21 * 0.05 / 2).
  int charged = 0;
  for (const PfCandidate& c : event.candidates) {
    const float half = kOuterCells * kOuterCellSize / 2;
    if (c.charge != 0 && std::abs(c.eta - tau.eta) < half &&
        std::abs(DeltaPhi(c.phi, tau.phi)) < half) {
      ++charged;
    }
  }
  const std::vector<float>& outer = (*inputs[2].data)[0];
  ASSERT_EQ(outer.size(), static_cast<size_t>(kOuterCells * kOuterCells * kCellChannels));
  float counted = 0;
  for (size_t cell = 0; cell < outer.size(); cell += kCellChannels) counted += outer[cell + 5];
  EXPECT_EQ(counted, static_cast<float>(charged));
  EXPECT_GT(charged, 0);
  EXPECT_EQ((*inputs[0].data)[0].size(), static_cast<size_t>(kDeepTauFeatures));
}

}  // namespace
}  // namespace sonic::demo
