// The generated models load through the server's execution path (LocalModel) and compute what
// their documentation says.
#include "demonstrator/models/model_zoo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "demonstrator/models/model_shapes.h"
#include "demonstrator/models/model_test_util.h"
#include "server/local/local_model.h"
#include "server/repository/temp_directory_for_test.h"

namespace sonic::demo::models {
namespace {

using server::LocalModel;
using server::LocalRequest;

class ModelZooTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new server::TempDirectoryForTest();
    status_ = new absl::Status(GenerateModels(dir_->path(), 7));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete status_;
  }
  void SetUp() override { ASSERT_TRUE(status_->ok()) << *status_; }

  std::unique_ptr<LocalModel> Load(std::string_view name) {
    auto model = LocalModel::Load(dir_->path() / std::string(name));
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *std::move(model) : nullptr;
  }

  static server::TempDirectoryForTest* dir_;
  static absl::Status* status_;
};
server::TempDirectoryForTest* ModelZooTest::dir_ = nullptr;
absl::Status* ModelZooTest::status_ = nullptr;

TEST_F(ModelZooTest, WritesTheRepositoryDeterministically) {
  EXPECT_TRUE(HasModels(dir_->path()));
  EXPECT_EQ(ModelNames().size(), 4u);
  server::TempDirectoryForTest again;
  ASSERT_TRUE(GenerateModels(again.path(), 7).ok());
  auto padded = LocalModel::Load(again.path() / std::string(kDeepTau));
  ASSERT_TRUE(padded.ok()) << padded.status();
  EXPECT_FALSE(HasModels(again.path() / "nothing"));
}

// A jet of n constituents: the padded variant's channels-first slots and the ragged variant's
// constituents one after another give the same class probabilities.
TEST_F(ModelZooTest, ParticleNetVariantsAgreeAndGiveProbabilities) {
  auto padded = Load(kParticleNetPadded);
  auto ragged = Load(kParticleNetRagged);
  ASSERT_TRUE(padded && ragged);
  std::mt19937 rng(3);
  const size_t sizes[] = {40, 3, 1, 17};
  const ParticleNetJets jets(sizes, rng);
  auto from_ragged = ragged->Execute(jets.ragged());
  auto from_padded = padded->Execute(jets.padded());
  ASSERT_TRUE(from_ragged.ok()) << from_ragged.status();
  ASSERT_TRUE(from_padded.ok()) << from_padded.status();
  for (size_t j = 0; j < 4; ++j) {
    const std::vector<float> a = Floats((*from_ragged)[j][0]);
    const std::vector<float> b = Floats((*from_padded)[j][0]);
    ASSERT_EQ(a.size(), static_cast<size_t>(kParticleNetClasses));
    ASSERT_EQ(b.size(), a.size());
    float sum = 0;
    for (size_t c = 0; c < a.size(); ++c) {
      EXPECT_NEAR(a[c], b[c], 1e-5) << "jet " << j << " class " << c;
      sum += a[c];
    }
    EXPECT_NEAR(sum, 1, 1e-5);
  }
  // A jet's scores do not depend on the other jets of the batch.
  std::vector<LocalRequest> alone = {jets.ragged()[0]};
  auto single = ragged->Execute(alone);
  ASSERT_TRUE(single.ok());
  const std::vector<float> a = Floats((*single)[0][0]), b = Floats((*from_ragged)[0][0]);
  for (size_t c = 0; c < a.size(); ++c) EXPECT_NEAR(a[c], b[c], 1e-6);
}

TEST_F(ModelZooTest, DeepMetSumsWeightedMomentaPerEvent) {
  auto deepmet = Load(kDeepMet);
  ASSERT_TRUE(deepmet);
  std::mt19937 rng(5);
  const size_t sizes[] = {30, 7};
  std::vector<std::vector<float>> cont(2), cat(2);
  std::vector<LocalRequest> requests;
  for (size_t e = 0; e < 2; ++e) {
    const size_t n = sizes[e];
    cont[e] = Random(n * kDeepMetContinuous, rng);
    for (size_t i = 0; i < n; ++i) {
      cont[e][i * kDeepMetContinuous] = 1 + 10 * std::abs(cont[e][i * kDeepMetContinuous]);
      cat[e].insert(cat[e].end(), {static_cast<float>(i % 3), static_cast<float>(i % 5),
                                   static_cast<float>(i % 4)});
    }
    const int64_t count = static_cast<int64_t>(n);
    requests.push_back(
        {{"pf_cont", DataType::kFp32, {1, count, kDeepMetContinuous}, Bytes(cont[e])},
         {"pf_cat", DataType::kFp32, {1, count, kDeepMetCategorical}, Bytes(cat[e])}});
  }
  auto responses = deepmet->Execute(requests);
  ASSERT_TRUE(responses.ok()) << responses.status();
  for (size_t e = 0; e < 2; ++e) {
    ASSERT_EQ((*responses)[e].size(), 2u);
    const std::vector<float> met = Floats((*responses)[e][0]);
    const std::vector<float> weights = Floats((*responses)[e][1]);
    EXPECT_EQ((*responses)[e][1].shape, (Shape{1, static_cast<int64_t>(sizes[e])}));
    ASSERT_EQ(met.size(), 2u);
    ASSERT_EQ(weights.size(), sizes[e]);
    double px = 0, py = 0;
    for (size_t i = 0; i < sizes[e]; ++i) {
      EXPECT_GT(weights[i], 0);
      EXPECT_LT(weights[i], 1);
      const double pt = cont[e][i * 6], phi = cont[e][i * 6 + 2];
      px -= weights[i] * pt * std::cos(phi);
      py -= weights[i] * pt * std::sin(phi);
    }
    EXPECT_NEAR(met[0], px, 1e-4);
    EXPECT_NEAR(met[1], py, 1e-4);
  }
}

TEST_F(ModelZooTest, DeepTauGivesProbabilitiesPerTau) {
  auto deeptau = Load(kDeepTau);
  ASSERT_TRUE(deeptau);
  std::mt19937 rng(9);
  std::vector<float> features = Random(3 * kDeepTauFeatures, rng);
  std::vector<float> inner = Random(3 * kInnerCells * kInnerCells * kCellChannels, rng, 0, 1);
  std::vector<float> outer = Random(3 * kOuterCells * kOuterCells * kCellChannels, rng, 0, 1);
  std::vector<LocalRequest> requests = {
      {{"tau_features", DataType::kFp32, {3, kDeepTauFeatures}, Bytes(features)},
       {"inner_grid", DataType::kFp32, {3, kInnerCells, kInnerCells, kCellChannels}, Bytes(inner)},
       {"outer_grid", DataType::kFp32, {3, kOuterCells, kOuterCells, kCellChannels},
        Bytes(outer)}}};
  auto responses = deeptau->Execute(requests);
  ASSERT_TRUE(responses.ok()) << responses.status();
  const std::vector<float> scores = Floats((*responses)[0][0]);
  ASSERT_EQ(scores.size(), 3u * kDeepTauClasses);
  for (size_t t = 0; t < 3; ++t) {
    float sum = 0;
    for (size_t c = 0; c < kDeepTauClasses; ++c) sum += scores[t * kDeepTauClasses + c];
    EXPECT_NEAR(sum, 1, 1e-5);
  }
  // Different taus get different scores (the network is not constant).
  EXPECT_NE(scores[0], scores[kDeepTauClasses]);
}

}  // namespace
}  // namespace sonic::demo::models
