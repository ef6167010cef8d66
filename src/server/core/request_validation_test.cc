// Per-request checks before queuing: the model's max_input_elements (or the server default),
// equal_variable_dims groups, reshapes that cannot apply, and malformed parameters refused at load.
#include "server/core/request_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/repository/model_config_loader.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

// A ParticleNet-like ragged model: each constituent's points and features.
constexpr char kJetConfig[] = R"pb(
  name: "jets"
  max_batch_size: 8
  input {
    name: "points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
    allow_ragged_batch: true
  }
  input {
    name: "features"
    data_type: TYPE_FP32
    dims: [ -1, 4 ]
    allow_ragged_batch: true
  }
  input {
    name: "flat"
    data_type: TYPE_FP32
    dims: [ 6 ]
    reshape { shape: [ 2, 3 ] }
    optional: true
  }
  output {
    name: "scores"
    data_type: TYPE_FP32
    dims: [ 2 ]
  }
  parameters {
    key: "max_input_elements"
    value { string_value: "400" }
  }
  parameters {
    key: "equal_variable_dims"
    value { string_value: "points, features" }
  }
)pb";

inference::ModelConfig Config(const char* text) {
  absl::StatusOr<inference::ModelConfig> config = ParseModelConfig(text, "jets");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

InferenceRequest Jet(int64_t points, int64_t features) {
  InferenceRequest request;
  request.inputs.push_back({"points", DataType::kFp32, {1, points, 2}, {}});
  request.inputs.push_back({"features", DataType::kFp32, {1, features, 4}, {}});
  return request;
}

TEST(RequestValidationTest, EqualGroupsPassAndDisagreeingOnesAreInvalid) {
  const inference::ModelConfig config = Config(kJetConfig);
  auto signature = ModelSignature::Create(config, 1000);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_TRUE(ValidateRequest(**signature, Jet(10, 10)).ok());
  absl::Status mismatch = ValidateRequest(**signature, Jet(10, 11));
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatch.message(), HasSubstr("'features'"));
  EXPECT_THAT(mismatch.message(), HasSubstr("equal_variable_dims"));
}

TEST(RequestValidationTest, TheModelsElementLimitWinsOverTheServerDefault) {
  const inference::ModelConfig config = Config(kJetConfig);
  auto signature = ModelSignature::Create(config, 1000000);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ((*signature)->max_input_elements(), 400u);
  EXPECT_TRUE(ValidateRequest(**signature, Jet(100, 100)).ok());  // 400 features
  absl::Status over = ValidateRequest(**signature, Jet(101, 101));
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.message(), HasSubstr("max_input_elements"));
  EXPECT_THAT(over.message(), HasSubstr("404 elements"));

  inference::ModelConfig without = config;
  without.mutable_parameters()->erase("max_input_elements");
  auto defaults = ModelSignature::Create(without, 100);
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(ValidateRequest(**defaults, Jet(30, 30)).ok());  // 120 > 100
}

TEST(RequestValidationTest, AReshapeThatCannotApplyIsInvalid) {
  const inference::ModelConfig config = Config(kJetConfig);
  auto signature = ModelSignature::Create(config, 1000);
  ASSERT_TRUE(signature.ok());
  InferenceRequest request = Jet(1, 1);
  request.inputs.push_back({"flat", DataType::kFp32, {1, 6}, {}});
  EXPECT_TRUE(ValidateRequest(**signature, request).ok());
  request.inputs.back().shape = {1, 5};
  absl::Status bad = ValidateRequest(**signature, request);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("reshape"));
}

TEST(RequestValidationTest, MalformedParametersAreRefused) {
  inference::ModelConfig config = Config(kJetConfig);
  (*config.mutable_parameters())["max_input_elements"].set_string_value("lots");
  EXPECT_THAT(ModelSignature::Create(config, 10).status().message(),
              HasSubstr("max_input_elements"));
  (*config.mutable_parameters())["max_input_elements"].set_string_value("0");
  EXPECT_FALSE(ModelSignature::Create(config, 10).ok());
  config.mutable_parameters()->erase("max_input_elements");
  (*config.mutable_parameters())["equal_variable_dims"].set_string_value("points,nothing");
  absl::Status unknown = ModelSignature::Create(config, 10).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("'nothing'"));
}

}  // namespace
}  // namespace sonic::server
