// The demonstrator's models as their users see them: names, tensor names and sizes, shared by the
// model generator (model_zoo.h) and the modules that fill the inputs (demonstrator/ml). No
// LibTorch here.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sonic::demo::models {

// ParticleNet-like jet tagger. Per jet constituent: two coordinates (the kNN graph's space) and
// kParticleNetFeatures features; output kParticleNetClasses class probabilities per jet.
inline constexpr std::string_view kParticleNetPadded = "particlenet_padded";
inline constexpr std::string_view kParticleNetRagged = "particlenet_ragged";
inline constexpr int64_t kParticleNetCoordinates = 2;   // (delta eta, delta phi) to the jet axis
inline constexpr int64_t kParticleNetFeatures = 16;
inline constexpr int64_t kParticleNetMaxConstituents = 100;  // the padded variant's slots
// The most constituents the ragged variant's server accepts in one jet (its max_input_elements).
inline constexpr int64_t kParticleNetMaxRaggedConstituents = 1024;
inline constexpr int64_t kParticleNetNeighbours = 16;       // k of the kNN graphs
inline constexpr int64_t kParticleNetClasses = 5;
// Class order of the scores.
inline constexpr std::array<std::string_view, kParticleNetClasses> kParticleNetClassNames = {
    "b", "c", "uds", "g", "top"};
inline constexpr std::string_view kPfPoints = "pf_points";      // padded [2, 100]; ragged [n, 2]
inline constexpr std::string_view kPfFeatures = "pf_features";  // padded [16, 100]; ragged [n, 16]
inline constexpr std::string_view kPfMask = "pf_mask";          // padded only: [1, 100]
inline constexpr std::string_view kJetOffsets = "jet_offsets";  // ragged only: batch_input
inline constexpr std::string_view kScores = "scores";

// DeepMET-like: per PF candidate, continuous features (pt, eta, phi, PUPPI weight, dxy, dz) and
// categorical ones (charge + 1, particle type, from_pv) sent as floats; outputs a weight per
// candidate and the event's missing transverse momentum (-sum of weighted px, py).
inline constexpr std::string_view kDeepMet = "deepmet";
inline constexpr int64_t kDeepMetContinuous = 6;
inline constexpr int64_t kDeepMetCategorical = 3;
inline constexpr std::string_view kPfContinuous = "pf_cont";     // [n, 6]
inline constexpr std::string_view kPfCategorical = "pf_cat";     // [n, 3]
inline constexpr std::string_view kEventOffsets = "event_offsets";  // batch_input
inline constexpr std::string_view kMet = "met";                  // [2]: (px, py)
inline constexpr std::string_view kWeights = "weights";          // [n]

// DeepTau-like: per tau candidate, tau-level features and two grids of cells around the tau
// (channels last, as CMSSW's DeepTau); output kDeepTauClasses probabilities.
inline constexpr std::string_view kDeepTau = "deeptau";
inline constexpr int64_t kDeepTauFeatures = 16;
inline constexpr int64_t kInnerCells = 11;           // 0.02 x 0.02 cells
inline constexpr int64_t kOuterCells = 21;           // 0.05 x 0.05 cells
inline constexpr int64_t kCellChannels = 10;
inline constexpr float kInnerCellSize = 0.02f;
inline constexpr float kOuterCellSize = 0.05f;
inline constexpr int64_t kDeepTauClasses = 4;
inline constexpr std::array<std::string_view, kDeepTauClasses> kDeepTauClassNames = {
    "e", "mu", "tau", "jet"};
inline constexpr std::string_view kTauFeatures = "tau_features";  // [16]
inline constexpr std::string_view kInnerGrid = "inner_grid";      // [11, 11, 10]
inline constexpr std::string_view kOuterGrid = "outer_grid";      // [21, 21, 10]

// The same models in other formats, with the TorchScript versions' weights (model_zoo.h): the
// same tensors, the same results.
inline constexpr std::string_view kParticleNetPaddedOnnx = "particlenet_padded_onnx";
inline constexpr std::string_view kParticleNetRaggedOnnx = "particlenet_ragged_onnx";
inline constexpr std::string_view kDeepMetOnnx = "deepmet_onnx";
inline constexpr std::string_view kDeepTauOnnx = "deeptau_onnx";
inline constexpr std::string_view kDeepMetTf = "deepmet_tf";  // a TensorFlow GraphDef

}  // namespace sonic::demo::models
