#include "demonstrator/events/ttbar_generator.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace sonic::demo {
namespace {

constexpr float kPi = std::numbers::pi_v<float>;

constexpr float MassOf(ParticleType type) {
  switch (type) {
    case ParticleType::kChargedHadron: return 0.1396f;
    case ParticleType::kNeutralHadron: return 0.4976f;
    case ParticleType::kPhoton: return 0.0f;
    case ParticleType::kElectron: return 0.000511f;
    case ParticleType::kMuon: return 0.1057f;
  }
  return 0.0f;
}

// SplitMix64's finaliser: decorrelates (seed, id) pairs that differ in a few bits.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct FourMomentum {
  double px = 0, py = 0, pz = 0, e = 0;
  void Add(const PfCandidate& c) {
    const double p_t = c.pt;
    px += p_t * std::cos(c.phi);
    py += p_t * std::sin(c.phi);
    pz += p_t * std::sinh(c.eta);
    const double p = p_t * std::cosh(c.eta);
    e += std::sqrt(p * p + static_cast<double>(c.mass) * c.mass);
  }
};

// What a spray of candidates around an axis is made of.
struct SprayKind {
  double lepton_fraction = 0.01;    // each of electrons and muons
  double displaced_fraction = 0.0;  // of tracks, with a large impact parameter (b hadrons)
};

class EventBuilder {
 public:
  EventBuilder(uint64_t seed, uint64_t id) : rng_(Mix(seed ^ Mix(id))) { event_.id = id; }

  EventData Build() {
    // Two top quarks, each t -> W b.
    for (int t = 0; t < 2; ++t) AddTop();
    const int isr = Poisson(1.5);
    for (int i = 0; i < isr; ++i) {
      AddJet(20 + Exp(30), ClippedGauss(2.0, 4.7), Phi(), 0.4, JetOrigin::kLight, {});
    }
    AddFakeTaus();
    AddPileup();
    Finish();
    return std::move(event_);
  }

 private:
  double Uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  double Gauss(double mean, double sd) { return std::normal_distribution<double>(mean, sd)(rng_); }
  double Exp(double mean) { return std::exponential_distribution<double>(1.0 / mean)(rng_); }
  int Poisson(double mean) { return std::poisson_distribution<int>(mean)(rng_); }
  bool Chance(double p) { return Uniform(0, 1) < p; }
  float Phi() { return static_cast<float>(Uniform(-kPi, kPi)); }
  float ClippedGauss(double sd, double limit) {
    for (;;) {
      const double x = Gauss(0, sd);
      if (std::abs(x) < limit) return static_cast<float>(x);
    }
  }

  void AddTop() {
    const double top_pt = 40 + Exp(110);
    const float eta = ClippedGauss(1.3, 2.4);
    const float phi = Phi();
    const double r = Uniform(0, 1);
    const bool hadronic = r < 0.676;
    if (hadronic && top_pt > 300) {
      AddBoostedTop(top_pt, eta, phi);
      return;
    }
    AddJet(25 + Exp(60), ClippedGauss(1.3, 2.5), Phi(), 0.4, JetOrigin::kBottom, {0.03, 0.35});
    if (hadronic) {
      for (int q = 0; q < 2; ++q) {
        AddJet(20 + Exp(40), ClippedGauss(1.3, 2.5), Phi(), 0.4, JetOrigin::kLight, {});
      }
      return;
    }
    const double lepton = Uniform(0, 3);
    if (lepton < 1) {
      AddLepton(ParticleType::kElectron);
    } else if (lepton < 2) {
      AddLepton(ParticleType::kMuon);
    } else if (Chance(0.65)) {
      AddTau();
    } else {
      AddLepton(Chance(0.5) ? ParticleType::kElectron : ParticleType::kMuon);
    }
  }

  // A top above 300 GeV: b and the two W quarks within R = 0.8 of its axis, each an AK4 jet, and
  // together (with soft radiation) one AK8 jet.
  void AddBoostedTop(double top_pt, float eta, float phi) {
    std::vector<uint32_t> all;
    const double b_share = Uniform(0.3, 0.5);
    const double q_share = Uniform(0.2, 0.35);
    const double shares[3] = {b_share, q_share, 1 - b_share - q_share};
    for (int q = 0; q < 3; ++q) {
      const double angle = Uniform(-kPi, kPi);
      const double distance = Uniform(0.15, 0.55);
      const float q_eta = eta + static_cast<float>(distance * std::cos(angle));
      const float q_phi = DeltaPhi(phi + static_cast<float>(distance * std::sin(angle)), 0);
      const bool b = q == 0;
      std::vector<uint32_t> part =
          AddJet(0.95 * top_pt * shares[q], q_eta, q_phi, 0.4,
                 b ? JetOrigin::kBottom : JetOrigin::kLight, b ? SprayKind{0.03, 0.35} : SprayKind{});
      all.insert(all.end(), part.begin(), part.end());
    }
    std::vector<uint32_t> soft = Spray(0.05 * top_pt, eta, phi, 0.8, 8, {});
    all.insert(all.end(), soft.begin(), soft.end());
    Jet jet = MakeJet(std::move(all), JetOrigin::kTop);
    if (jet.pt > 170) event_.ak8_jets.push_back(std::move(jet));
  }

  // Candidates of a jet around (eta, phi) and the AK4 jet they make (kept when above 20 GeV).
  // Returns the candidates' indices.
  std::vector<uint32_t> AddJet(double pt, float eta, float phi, double radius, JetOrigin origin,
                               SprayKind kind) {
    std::vector<uint32_t> constituents = Spray(pt, eta, phi, radius, 6 + 0.16 * pt, kind);
    Jet jet = MakeJet(constituents, origin);
    if (jet.pt > 20) event_.ak4_jets.push_back(std::move(jet));
    return constituents;
  }

  std::vector<uint32_t> Spray(double pt, float eta, float phi, double radius, double mean_count,
                              SprayKind kind) {
    const int n = std::max(2, Poisson(mean_count));
    std::vector<double> z(static_cast<size_t>(n));
    double sum = 0;
    for (double& f : z) sum += f = std::pow(Exp(1), 1.6);
    const double sigma = std::clamp(0.10 * std::sqrt(40 / std::max(pt, 1.0)), 0.02, radius / 2);
    std::vector<uint32_t> indices;
    for (double f : z) {
      double d_eta = 0, d_phi = 0;
      do {
        d_eta = Gauss(0, sigma);
        d_phi = Gauss(0, sigma);
      } while (d_eta * d_eta + d_phi * d_phi > radius * radius);
      PfCandidate c;
      c.pt = static_cast<float>(std::max(0.2, pt * f / sum));
      c.eta = eta + static_cast<float>(d_eta);
      c.phi = DeltaPhi(phi + static_cast<float>(d_phi), 0);
      const double r = Uniform(0, 1);
      if (r < kind.lepton_fraction) {
        c.type = ParticleType::kElectron;
      } else if (r < 2 * kind.lepton_fraction) {
        c.type = ParticleType::kMuon;
      } else if (r < 2 * kind.lepton_fraction + 0.25) {
        c.type = ParticleType::kPhoton;
      } else if (r < 2 * kind.lepton_fraction + 0.36) {
        c.type = ParticleType::kNeutralHadron;
      } else {
        c.type = ParticleType::kChargedHadron;
      }
      const bool charged = c.type == ParticleType::kChargedHadron ||
                           c.type == ParticleType::kElectron || c.type == ParticleType::kMuon;
      if (charged) {
        SetTrack(c, Chance(kind.displaced_fraction) ? Exp(0.04) * (Chance(0.5) ? 1 : -1)
                                                    : Gauss(0, 0.002),
                 Gauss(0, 0.01), 3);
      }
      c.from_pv = 3;
      c.puppi_weight = static_cast<float>(1 - 0.1 * Uniform(0, 1));
      indices.push_back(Add(c));
    }
    return indices;
  }

  void SetTrack(PfCandidate& c, double dxy, double dz, uint8_t from_pv) {
    c.charge = Chance(0.5) ? 1 : -1;
    c.dxy = static_cast<float>(dxy);
    c.dz = static_cast<float>(dz);
    c.hits = static_cast<uint8_t>(8 + Poisson(8));
    c.from_pv = from_pv;
  }

  uint32_t Add(PfCandidate c) {
    c.mass = MassOf(c.type);
    event_.candidates.push_back(c);
    return static_cast<uint32_t>(event_.candidates.size() - 1);
  }

  void AddLepton(ParticleType type) {
    PfCandidate c;
    c.type = type;
    c.pt = static_cast<float>(25 + Exp(35));
    c.eta = ClippedGauss(1.2, 2.4);
    c.phi = Phi();
    SetTrack(c, Gauss(0, 0.002), Gauss(0, 0.01), 3);
    c.puppi_weight = 1;
    Add(c);
  }

  // A genuine hadronic tau: 1 or 3 charged prongs (and photons from pi0s) within R = 0.1.
  void AddTau() {
    TauCandidate tau;
    const double r = Uniform(0, 1);
    tau.decay_mode = r < 0.5 ? 0 : (r < 0.8 ? 1 : 10);
    tau.genuine = true;
    tau.charge = Chance(0.5) ? 1 : -1;
    const double pt = 20 + Exp(30);
    const float eta = ClippedGauss(1.2, 2.3);
    const float phi = Phi();
    const int prongs = tau.decay_mode == 10 ? 3 : 1;
    const int photons = tau.decay_mode == 1 ? 2 : 0;
    const int charges[3] = {tau.charge, tau.charge, static_cast<int8_t>(-tau.charge)};
    for (int i = 0; i < prongs + photons; ++i) {
      PfCandidate c;
      c.type = i < prongs ? ParticleType::kChargedHadron : ParticleType::kPhoton;
      c.pt = static_cast<float>(pt / (prongs + photons) * Uniform(0.6, 1.4));
      c.eta = eta + static_cast<float>(Gauss(0, 0.03));
      c.phi = DeltaPhi(phi + static_cast<float>(Gauss(0, 0.03)), 0);
      if (i < prongs) {
        SetTrack(c, Gauss(0, 0.005), Gauss(0, 0.01), 3);
        c.charge = static_cast<int8_t>(prongs == 1 ? tau.charge : charges[i]);
      }
      c.from_pv = 3;
      c.puppi_weight = 1;
      tau.signal.push_back(Add(c));
    }
    event_.taus.push_back(std::move(tau));
  }

  // Jets faking taus: the leading charged constituents (and photons) within R = 0.1 of the axis.
  void AddFakeTaus() {
    for (const Jet& jet : event_.ak4_jets) {
      if (!Chance(0.25)) continue;
      TauCandidate tau;
      int charged = 0, photons = 0, charge = 0;
      for (uint32_t i : jet.constituents) {
        const PfCandidate& c = event_.candidates[i];
        const float d_eta = c.eta - jet.eta, d_phi = DeltaPhi(c.phi, jet.phi);
        if (d_eta * d_eta + d_phi * d_phi > 0.01f) continue;
        if (c.type == ParticleType::kChargedHadron && charged < 3) {
          ++charged;
          charge += c.charge;
          tau.signal.push_back(i);
        } else if (c.type == ParticleType::kPhoton && photons < 2) {
          ++photons;
          tau.signal.push_back(i);
        }
      }
      if (charged == 0 || charged == 2) continue;
      tau.decay_mode = charged == 3 ? 10 : (photons > 0 ? 1 : 0);
      tau.charge = static_cast<int8_t>(std::clamp(charge, -1, 1));
      event_.taus.push_back(std::move(tau));
    }
  }

  void AddPileup() {
    const int n = static_cast<int>(std::clamp(Gauss(650, 120), 250.0, 1400.0));
    for (int i = 0; i < n; ++i) {
      PfCandidate c;
      c.pt = static_cast<float>(0.3 + Exp(0.9));
      c.eta = static_cast<float>(Uniform(-4.7, 4.7));
      c.phi = Phi();
      const bool from_primary = Chance(0.15);  // underlying event
      if (std::abs(c.eta) < 2.5 && Chance(0.55)) {
        c.type = ParticleType::kChargedHadron;
        SetTrack(c, Gauss(0, 0.01), from_primary ? Gauss(0, 0.02) : Gauss(0, 4),
                 from_primary ? 3 : static_cast<uint8_t>(Chance(0.3) ? 1 : 0));
        c.puppi_weight = static_cast<float>(from_primary ? 1 - 0.2 * Uniform(0, 1)
                                                         : std::pow(Uniform(0, 1), 4));
      } else {
        c.type = Chance(0.6) ? ParticleType::kPhoton : ParticleType::kNeutralHadron;
        c.puppi_weight = static_cast<float>(std::pow(Uniform(0, 1), 2));
      }
      Add(c);
    }
  }

  Jet MakeJet(std::vector<uint32_t> constituents, JetOrigin origin) const {
    Jet jet;
    jet.origin = origin;
    FourMomentum p;
    for (uint32_t i : constituents) p.Add(event_.candidates[i]);
    const double pt = std::hypot(p.px, p.py);
    jet.pt = static_cast<float>(pt);
    jet.eta = static_cast<float>(std::asinh(p.pz / std::max(pt, 1e-9)));
    jet.phi = static_cast<float>(std::atan2(p.py, p.px));
    jet.energy = static_cast<float>(p.e);
    const double m2 = p.e * p.e - p.px * p.px - p.py * p.py - p.pz * p.pz;
    jet.mass = static_cast<float>(std::sqrt(std::max(m2, 0.0)));
    std::sort(constituents.begin(), constituents.end(), [&](uint32_t a, uint32_t b) {
      return event_.candidates[a].pt > event_.candidates[b].pt;
    });
    jet.constituents = std::move(constituents);
    return jet;
  }

  void Finish() {
    auto by_pt = [](const auto& a, const auto& b) { return a.pt > b.pt; };
    std::sort(event_.ak4_jets.begin(), event_.ak4_jets.end(), by_pt);
    std::sort(event_.ak8_jets.begin(), event_.ak8_jets.end(), by_pt);
    for (TauCandidate& tau : event_.taus) {
      std::sort(tau.signal.begin(), tau.signal.end(), [&](uint32_t a, uint32_t b) {
        return event_.candidates[a].pt > event_.candidates[b].pt;
      });
      FourMomentum p;
      for (uint32_t i : tau.signal) p.Add(event_.candidates[i]);
      const double pt = std::hypot(p.px, p.py);
      tau.pt = static_cast<float>(pt);
      tau.eta = static_cast<float>(std::asinh(p.pz / std::max(pt, 1e-9)));
      tau.phi = static_cast<float>(std::atan2(p.py, p.px));
    }
    std::erase_if(event_.taus, [](const TauCandidate& tau) { return tau.pt < 20; });
    std::sort(event_.taus.begin(), event_.taus.end(), by_pt);
  }

  std::mt19937_64 rng_;
  EventData event_;
};

}  // namespace

float DeltaPhi(float a, float b) {
  float d = std::fmod(a - b + kPi, 2 * kPi);
  if (d < 0) d += 2 * kPi;
  return d - kPi;
}

const std::vector<Jet>& Jets(const EventData& event, JetCollection collection) {
  return collection == JetCollection::kAk4 ? event.ak4_jets : event.ak8_jets;
}

std::string_view JetCollectionName(JetCollection collection) {
  return collection == JetCollection::kAk4 ? "ak4" : "ak8";
}

EventData TtbarGenerator::Generate(uint64_t id) const { return EventBuilder(seed_, id).Build(); }

}  // namespace sonic::demo
