// Tensors for the generated models' tests: float inputs as the bytes LocalModel takes, float
// outputs back from them, seeded random values, and ParticleNet jets in both layouts.
#pragma once

#include <cstddef>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "demonstrator/models/model_shapes.h"
#include "server/local/local_model.h"

namespace sonic::demo::models {

inline std::span<const std::byte> Bytes(const std::vector<float>& values) {
  return std::as_bytes(std::span(values));
}

inline std::vector<float> Floats(const server::OutputTensor& tensor) {
  std::vector<float> values(tensor.data.size() / sizeof(float));
  std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
  return values;
}

inline std::vector<float> Random(size_t n, std::mt19937& rng, float low = -1, float high = 1) {
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> values(n);
  for (float& v : values) v = uniform(rng);
  return values;
}

// Random jets of the given constituent counts (at most kParticleNetMaxConstituents), one request
// each, for the ragged variant (constituents one after another) and for the padded one
// (channels-first slots and a mask). The requests view this object's vectors.
class ParticleNetJets {
 public:
  ParticleNetJets(std::span<const size_t> sizes, std::mt19937& rng) {
    const size_t jets = sizes.size();
    const size_t slots = kParticleNetMaxConstituents;
    points_.resize(jets);
    features_.resize(jets);
    mask_.resize(jets);
    padded_points_.resize(jets);
    padded_features_.resize(jets);
    for (size_t j = 0; j < jets; ++j) {
      const size_t n = sizes[j];
      points_[j] = Random(n * 2, rng, -0.4f, 0.4f);
      features_[j] = Random(n * kParticleNetFeatures, rng);
      padded_points_[j].assign(2 * slots, 0);
      padded_features_[j].assign(kParticleNetFeatures * slots, 0);
      mask_[j].assign(slots, 0);
      for (size_t i = 0; i < n; ++i) {
        mask_[j][i] = 1;
        for (size_t c = 0; c < 2; ++c) padded_points_[j][c * slots + i] = points_[j][i * 2 + c];
        for (size_t c = 0; c < kParticleNetFeatures; ++c) {
          padded_features_[j][c * slots + i] = features_[j][i * kParticleNetFeatures + c];
        }
      }
      const int64_t count = static_cast<int64_t>(n);
      const int64_t width = static_cast<int64_t>(slots);
      ragged_.push_back(
          {{"pf_points", DataType::kFp32, {1, count, 2}, Bytes(points_[j])},
           {"pf_features", DataType::kFp32, {1, count, kParticleNetFeatures}, Bytes(features_[j])}});
      padded_.push_back(
          {{"pf_points", DataType::kFp32, {1, 2, width}, Bytes(padded_points_[j])},
           {"pf_features", DataType::kFp32, {1, kParticleNetFeatures, width},
            Bytes(padded_features_[j])},
           {"pf_mask", DataType::kFp32, {1, 1, width}, Bytes(mask_[j])}});
    }
  }
  ParticleNetJets(const ParticleNetJets&) = delete;
  ParticleNetJets& operator=(const ParticleNetJets&) = delete;

  const std::vector<server::LocalRequest>& ragged() const { return ragged_; }
  const std::vector<server::LocalRequest>& padded() const { return padded_; }

 private:
  std::vector<std::vector<float>> points_, features_, mask_, padded_points_, padded_features_;
  std::vector<server::LocalRequest> ragged_, padded_;
};

}  // namespace sonic::demo::models
