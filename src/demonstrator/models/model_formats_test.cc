// The ONNX and TensorFlow versions of the generated models compute what the TorchScript ones
// compute (same weights): each pair runs on the same inputs through the server's execution path
// (LocalModel with the pytorch, onnxruntime and tensorflow plugins), outputs equal within 1e-5
// (|a - b| / max(1, |a|, |b|), as the demonstrator's validation). And a missing Python
// environment skips those formats with a reason instead of failing or passing silently.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "demonstrator/models/model_shapes.h"
#include "demonstrator/models/model_test_util.h"
#include "demonstrator/models/model_zoo.h"
#include "server/local/local_model.h"
#include "server/repository/temp_directory_for_test.h"

namespace sonic::demo::models {
namespace {

using server::LocalModel;
using server::LocalRequest;
using server::OutputTensor;
using ::testing::HasSubstr;

class ModelFormatsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new server::TempDirectoryForTest();
    GenerateOptions options;
    options.onnx = true;
    options.tensorflow = true;
    report_ = new absl::StatusOr<GenerateReport>(GenerateModels(dir_->path(), 7, options));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete report_;
  }
  void SetUp() override { ASSERT_TRUE(report_->ok()) << report_->status(); }

  std::unique_ptr<LocalModel> Load(std::string_view name) {
    auto model = LocalModel::Load(dir_->path() / std::string(name));
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *std::move(model) : nullptr;
  }

  // Runs `requests` through both models and compares every output of every request.
  void ExpectSameOutputs(std::string_view reference_name, std::string_view other_name,
                         const std::vector<LocalRequest>& requests) {
    SCOPED_TRACE(std::string(other_name));
    auto reference = Load(reference_name);
    auto other = Load(other_name);
    ASSERT_TRUE(reference && other);
    auto expected = reference->Execute(requests);
    auto got = other->Execute(requests);
    ASSERT_TRUE(expected.ok()) << expected.status();
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), expected->size());
    for (size_t r = 0; r < got->size(); ++r) {
      ASSERT_EQ((*got)[r].size(), (*expected)[r].size());
      for (size_t o = 0; o < (*got)[r].size(); ++o) {
        const OutputTensor& a = (*expected)[r][o];
        const OutputTensor& b = (*got)[r][o];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.shape, b.shape) << a.name;
        const std::vector<float> x = Floats(a), y = Floats(b);
        ASSERT_EQ(x.size(), y.size()) << a.name;
        double largest = 0;
        for (size_t i = 0; i < x.size(); ++i) {
          const double scale = std::max({1.0, std::abs(double{x[i]}), std::abs(double{y[i]})});
          largest = std::max(largest, std::abs(double{x[i]} - double{y[i]}) / scale);
        }
        EXPECT_LE(largest, 1e-5) << "request " << r << " output " << a.name;
      }
    }
  }

  static server::TempDirectoryForTest* dir_;
  static absl::StatusOr<GenerateReport>* report_;
};
server::TempDirectoryForTest* ModelFormatsTest::dir_ = nullptr;
absl::StatusOr<GenerateReport>* ModelFormatsTest::report_ = nullptr;

TEST_F(ModelFormatsTest, WritesEveryFormat) {
  EXPECT_THAT((*report_)->skipped, ::testing::IsEmpty());
  const std::vector<std::string> other_formats = {
      std::string(kParticleNetPaddedOnnx), std::string(kParticleNetRaggedOnnx),
      std::string(kDeepMetOnnx), std::string(kDeepTauOnnx), std::string(kDeepMetTf)};
  for (const std::string& name : other_formats) {
    EXPECT_THAT((*report_)->written, ::testing::Contains(name));
    EXPECT_TRUE(std::filesystem::is_regular_file(dir_->path() / name / "config.pbtxt")) << name;
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_->path() / std::string(kParticleNetRaggedOnnx) /
                                               "1" / "model.onnx"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_->path() / std::string(kDeepMetTf) / "1" /
                                               "model.graphdef"));
}

// Jets of 40, 3, 1 (no neighbour at all), 17 and 100 constituents, in one batch.
TEST_F(ModelFormatsTest, ParticleNetOnnxEqualsTorchScript) {
  std::mt19937 rng(3);
  const size_t sizes[] = {40, 3, 1, 17, 100};
  const ParticleNetJets jets(sizes, rng);
  const std::vector<LocalRequest>& ragged = jets.ragged();
  const std::vector<LocalRequest>& padded = jets.padded();
  ExpectSameOutputs(kParticleNetRagged, kParticleNetRaggedOnnx, ragged);
  ExpectSameOutputs(kParticleNetPadded, kParticleNetPaddedOnnx, padded);
  // One jet alone, one constituent: the edge convolutions have no neighbour to gather.
  ExpectSameOutputs(kParticleNetRagged, kParticleNetRaggedOnnx, {ragged[2]});
}

std::vector<LocalRequest> DeepMetRequests(std::vector<std::vector<float>>& cont,
                                          std::vector<std::vector<float>>& cat) {
  std::mt19937 rng(5);
  const size_t sizes[] = {300, 7, 1, 64};
  std::vector<LocalRequest> requests;
  cont.resize(std::size(sizes));
  cat.resize(std::size(sizes));
  for (size_t e = 0; e < std::size(sizes); ++e) {
    const size_t n = sizes[e];
    cont[e] = Random(n * kDeepMetContinuous, rng);
    for (size_t i = 0; i < n; ++i) {
      cont[e][i * kDeepMetContinuous] = 0.5f + 20 * std::abs(cont[e][i * kDeepMetContinuous]);
      cont[e][i * kDeepMetContinuous + 2] *= 3.14159f;
      cat[e].insert(cat[e].end(), {static_cast<float>(i % 3), static_cast<float>(i % 5),
                                   static_cast<float>(i % 4)});
    }
    const int64_t count = static_cast<int64_t>(n);
    requests.push_back(
        {{"pf_cont", DataType::kFp32, {1, count, kDeepMetContinuous}, Bytes(cont[e])},
         {"pf_cat", DataType::kFp32, {1, count, kDeepMetCategorical}, Bytes(cat[e])}});
  }
  return requests;
}

TEST_F(ModelFormatsTest, DeepMetOnnxEqualsTorchScript) {
  std::vector<std::vector<float>> cont, cat;
  ExpectSameOutputs(kDeepMet, kDeepMetOnnx, DeepMetRequests(cont, cat));
}

// TensorFlow is opened with RTLD_DEEPBIND, which AddressSanitizer refuses (tf_library.h).
#ifdef SONIC_TEST_TENSORFLOW
TEST_F(ModelFormatsTest, DeepMetTensorFlowEqualsTorchScript) {
  std::vector<std::vector<float>> cont, cat;
  ExpectSameOutputs(kDeepMet, kDeepMetTf, DeepMetRequests(cont, cat));
}
#endif

TEST_F(ModelFormatsTest, DeepTauOnnxEqualsTorchScript) {
  std::mt19937 rng(9);
  std::vector<float> features = Random(5 * kDeepTauFeatures, rng);
  std::vector<float> inner = Random(5 * kInnerCells * kInnerCells * kCellChannels, rng, 0, 1);
  std::vector<float> outer = Random(5 * kOuterCells * kOuterCells * kCellChannels, rng, 0, 1);
  ExpectSameOutputs(
      kDeepTau, kDeepTauOnnx,
      {{{"tau_features", DataType::kFp32, {5, kDeepTauFeatures}, Bytes(features)},
        {"inner_grid", DataType::kFp32, {5, kInnerCells, kInnerCells, kCellChannels}, Bytes(inner)},
        {"outer_grid",
         DataType::kFp32,
         {5, kOuterCells, kOuterCells, kCellChannels},
         Bytes(outer)}}});
}

TEST(ModelFormatsWithoutPythonTest, SkipsTheFormatsAndSaysWhy) {
  server::TempDirectoryForTest dir;
  GenerateOptions options;
  options.onnx = true;
  options.tensorflow = true;
  options.python = dir.path() / "no-such-env" / "bin" / "python";
  auto report = GenerateModels(dir.path(), 7, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->written, ModelNames());
  ASSERT_EQ(report->skipped.size(), 2u);
  EXPECT_THAT(report->skipped[0], HasSubstr("ONNX models not written"));
  EXPECT_THAT(report->skipped[1], HasSubstr("TensorFlow models not written"));
  for (const std::string& line : report->skipped) {
    EXPECT_THAT(line, HasSubstr(options.python.string()));
    EXPECT_THAT(line, HasSubstr("scripts/bootstrap.sh"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / std::string(kParticleNetRaggedOnnx)));
}

}  // namespace
}  // namespace sonic::demo::models
