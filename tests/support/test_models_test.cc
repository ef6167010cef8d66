// The test repository is what the integration tests stand on: check that every config but
// bad_config parses, and that the identity models load in their backend.
#include "test_models.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "backends/identity/identity_backend.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "inference/model_config.pb.h"
#include "server/backend/backend_model.h"

namespace sonic::testing {
namespace {

bool ParseConfig(const std::filesystem::path& file, inference::ModelConfig* config) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return google::protobuf::TextFormat::ParseFromString(text, config);
}

class TestModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Unique per process: ctest may run this fixture's tests in parallel processes.
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("test_models_test_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(WriteTestRepository(dir_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TestModelsTest, ConfigsParseExceptBadConfig) {
  std::vector<std::string> models = {"identity_fp32", "identity_delay", "identity_all_types",
                                     "broken_model"};
  if (HaveTorchModels()) {
    models.push_back("torch_mlp");
    models.push_back("torch_two_io");
    models.push_back("torch_ragged_sum");
  }
  for (const std::string& model : models) {
    inference::ModelConfig config;
    EXPECT_TRUE(ParseConfig(dir_ / model / "config.pbtxt", &config)) << model;
    EXPECT_EQ(config.name(), model);
    EXPECT_TRUE(std::filesystem::is_directory(dir_ / model / "1")) << model;
  }
  inference::ModelConfig config;
  EXPECT_FALSE(ParseConfig(dir_ / "bad_config" / "config.pbtxt", &config));
  EXPECT_EQ(std::filesystem::exists(dir_ / "torch_mlp" / "1" / "model.pt"), HaveTorchModels());
}

TEST_F(TestModelsTest, IdentityModelsLoad) {
  for (const char* name : {"identity_fp32", "identity_delay", "identity_all_types"}) {
    inference::ModelConfig config;
    ASSERT_TRUE(ParseConfig(dir_ / name / "config.pbtxt", &config));
    auto model = server::BackendModel::Create(backends::IdentityBackendApi(), name, 1,
                                              dir_ / name / "1", config);
    EXPECT_TRUE(model.ok()) << name << ": " << model.status();
  }
  inference::ModelConfig all_types;
  ASSERT_TRUE(ParseConfig(dir_ / "identity_all_types" / "config.pbtxt", &all_types));
  EXPECT_EQ(all_types.input_size(), 14);
}

TEST_F(TestModelsTest, MlpRunsInProcessWhenTorchIsPresent) {
  std::vector<float> input(2 * kTorchMlpInputSize, 0.5f);
  absl::StatusOr<std::vector<float>> output = RunTorchMlpInProcess(dir_, input);
  if (!HaveTorchModels()) {
    EXPECT_EQ(output.status().code(), absl::StatusCode::kUnimplemented);
    return;
  }
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_EQ(output->size(), 2u * kTorchMlpOutputSize);
  // Same rows give the same results, and the weights are not all zero.
  for (int i = 0; i < kTorchMlpOutputSize; ++i) {
    EXPECT_EQ((*output)[i], (*output)[i + kTorchMlpOutputSize]);
  }
  EXPECT_NE((*output)[0], (*output)[1]);
  EXPECT_FALSE(RunTorchMlpInProcess(dir_, std::vector<float>(5)).ok());
}

}  // namespace
}  // namespace sonic::testing
