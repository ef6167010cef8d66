#include "demonstrator/events/ttbar_generator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace sonic::demo {
namespace {

bool SameEvent(const EventData& a, const EventData& b) {
  if (a.candidates.size() != b.candidates.size() || a.ak4_jets.size() != b.ak4_jets.size() ||
      a.ak8_jets.size() != b.ak8_jets.size() || a.taus.size() != b.taus.size()) {
    return false;
  }
  for (size_t i = 0; i < a.candidates.size(); ++i) {
    const PfCandidate &x = a.candidates[i], &y = b.candidates[i];
    if (x.pt != y.pt || x.eta != y.eta || x.phi != y.phi || x.dxy != y.dxy || x.type != y.type) {
      return false;
    }
  }
  for (size_t i = 0; i < a.ak4_jets.size(); ++i) {
    if (a.ak4_jets[i].constituents != b.ak4_jets[i].constituents) return false;
  }
  return true;
}

TEST(TtbarGeneratorTest, AnEventDependsOnlyOnSeedAndNumber) {
  TtbarGenerator generator(42);
  const EventData first = generator.Generate(7);
  EXPECT_EQ(first.id, 7u);
  generator.Generate(8);  // order does not matter
  EXPECT_TRUE(SameEvent(first, TtbarGenerator(42).Generate(7)));
  EXPECT_FALSE(SameEvent(first, generator.Generate(8)));
  EXPECT_FALSE(SameEvent(first, TtbarGenerator(43).Generate(7)));
}

TEST(TtbarGeneratorTest, MultiplicitiesAndObjectsAreAsDocumented) {
  TtbarGenerator generator(1);
  constexpr int kEvents = 300;
  double candidates = 0, ak4 = 0, ak8 = 0, taus = 0, ak4_constituents = 0;
  size_t most_ak8_constituents = 0;
  for (uint64_t id = 0; id < kEvents; ++id) {
    const EventData event = generator.Generate(id);
    candidates += static_cast<double>(event.candidates.size());
    ak4 += static_cast<double>(event.ak4_jets.size());
    ak8 += static_cast<double>(event.ak8_jets.size());
    taus += static_cast<double>(event.taus.size());
    for (const PfCandidate& c : event.candidates) {
      ASSERT_GT(c.pt, 0);
      ASSERT_LT(std::abs(c.eta), 5.6f);
      ASSERT_GE(c.phi, -std::numbers::pi_v<float>);
      ASSERT_LT(c.phi, std::numbers::pi_v<float>);
      const bool charged = c.type == ParticleType::kChargedHadron ||
                           c.type == ParticleType::kElectron || c.type == ParticleType::kMuon;
      ASSERT_EQ(c.charge != 0, charged);
    }
    for (JetCollection collection : {JetCollection::kAk4, JetCollection::kAk8}) {
      const std::vector<Jet>& jets = Jets(event, collection);
      for (size_t j = 0; j < jets.size(); ++j) {
        const Jet& jet = jets[j];
        ASSERT_GT(jet.pt, collection == JetCollection::kAk4 ? 20 : 170);
        if (j > 0) {
          ASSERT_LE(jet.pt, jets[j - 1].pt);
        }
        ASSERT_FALSE(jet.constituents.empty());
        for (size_t k = 0; k < jet.constituents.size(); ++k) {
          ASSERT_LT(jet.constituents[k], event.candidates.size());
          if (k > 0) {
            ASSERT_LE(event.candidates[jet.constituents[k]].pt,
                      event.candidates[jet.constituents[k - 1]].pt);
          }
        }
        if (collection == JetCollection::kAk4) {
          ak4_constituents += static_cast<double>(jet.constituents.size());
        } else {
          most_ak8_constituents = std::max(most_ak8_constituents, jet.constituents.size());
        }
      }
    }
    for (const TauCandidate& tau : event.taus) {
      ASSERT_GE(tau.pt, 20);
      ASSERT_FALSE(tau.signal.empty());
      ASSERT_TRUE(tau.decay_mode == 0 || tau.decay_mode == 1 || tau.decay_mode == 10);
    }
  }
  EXPECT_GT(candidates / kEvents, 700);
  EXPECT_LT(candidates / kEvents, 1100);
  EXPECT_GT(ak4 / kEvents, 4);
  EXPECT_LT(ak4 / kEvents, 8);
  EXPECT_GT(ak8 / kEvents, 0.1);
  EXPECT_LT(ak8 / kEvents, 2);
  EXPECT_GT(taus / kEvents, 0.8);
  EXPECT_LT(taus / kEvents, 3);
  EXPECT_GT(ak4_constituents / ak4, 10);
  EXPECT_LT(ak4_constituents / ak4, 40);
  EXPECT_GT(most_ak8_constituents, 100u);  // some AK8 jets exceed ParticleNet's 100 slots
}

TEST(TtbarGeneratorTest, DeltaPhiWraps) {
  constexpr float kPi = std::numbers::pi_v<float>;
  EXPECT_NEAR(DeltaPhi(3.0f, -3.0f), 6.0f - 2 * kPi, 1e-5);
  EXPECT_NEAR(DeltaPhi(-3.0f, 3.0f), 2 * kPi - 6.0f, 1e-5);
  EXPECT_NEAR(DeltaPhi(0.5f, 0.25f), 0.25f, 1e-6);
}

}  // namespace
}  // namespace sonic::demo
