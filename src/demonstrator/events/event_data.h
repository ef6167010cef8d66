// The reconstructed objects of a CMS MiniAOD-like event, as the demonstrator's modules see them:
// particle-flow candidates, small-radius (AK4) and large-radius (AK8) jets made of candidates,
// and hadronic tau candidates. Units: GeV, cm, radians. Plain values.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sonic::demo {

// Particle-flow candidate types (CMS's PF categories that matter here).
enum class ParticleType : uint8_t {
  kChargedHadron = 0,
  kNeutralHadron = 1,
  kPhoton = 2,
  kElectron = 3,
  kMuon = 4,
};
inline constexpr int kParticleTypes = 5;

struct PfCandidate {
  float pt = 0;
  float eta = 0;
  float phi = 0;  // [-pi, pi)
  float mass = 0;
  int8_t charge = 0;  // -1, 0, +1
  ParticleType type = ParticleType::kChargedHadron;
  // Track features, for charged candidates (0 for neutral ones).
  float dxy = 0;      // transverse impact parameter
  float dz = 0;       // longitudinal impact parameter w.r.t. the primary vertex
  uint8_t hits = 0;   // tracker hits
  // Association with the primary vertex, as MiniAOD's pvAssociationQuality: 0 (pileup) .. 3.
  uint8_t from_pv = 0;
  // PUPPI weight: the probability that the candidate comes from the primary interaction.
  float puppi_weight = 0;
};

// Generator truth of a jet's origin (for plots and checks, never an input of the models).
enum class JetOrigin : uint8_t { kLight = 0, kBottom = 1, kTop = 2, kPileup = 3 };

struct Jet {
  // Four-momentum summed from the constituents.
  float pt = 0;
  float eta = 0;
  float phi = 0;
  float mass = 0;
  float energy = 0;
  JetOrigin origin = JetOrigin::kLight;
  // Indices into EventData::candidates, by decreasing pt.
  std::vector<uint32_t> constituents;
};

struct TauCandidate {
  float pt = 0;
  float eta = 0;
  float phi = 0;
  int8_t charge = 0;
  // 0: one prong, 1: one prong + pi0s, 10: three prongs.
  uint8_t decay_mode = 0;
  bool genuine = false;  // truth: a real hadronic tau (else a jet faking one)
  // Indices into EventData::candidates of the signal candidates, by decreasing pt.
  std::vector<uint32_t> signal;
};

// The label under which a job's source puts an event's EventData (framework/event.h).
inline constexpr char kEventDataLabel[] = "event_data";

struct EventData {
  uint64_t id = 0;
  std::vector<PfCandidate> candidates;
  std::vector<Jet> ak4_jets;  // R = 0.4, pt > 20 GeV, by decreasing pt
  std::vector<Jet> ak8_jets;  // R = 0.8, pt > 170 GeV, by decreasing pt
  std::vector<TauCandidate> taus;
};

// "ak4" or "ak8" jets of an event.
enum class JetCollection { kAk4, kAk8 };
const std::vector<Jet>& Jets(const EventData& event, JetCollection collection);
std::string_view JetCollectionName(JetCollection collection);

// Wraps an azimuthal difference into [-pi, pi).
float DeltaPhi(float a, float b);

}  // namespace sonic::demo
