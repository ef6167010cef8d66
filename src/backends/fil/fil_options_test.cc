#include "backends/fil/fil_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace sonic::backends::fil {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

inference::ModelConfig Config(const std::vector<std::pair<std::string, std::string>>& parameters) {
  inference::ModelConfig config;
  config.set_name("trees");
  for (const auto& [key, value] : parameters) {
    (*config.mutable_parameters())[key].set_string_value(value);
  }
  return config;
}

TEST(FilOptionsTest, DefaultsAndModelFilesFollowTritonFil) {
  absl::StatusOr<FilOptions> options = ReadFilOptions(Config({}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->model_type, ModelType::kXgboost);
  EXPECT_EQ(options->model_file, "xgboost.model");
  EXPECT_FALSE(options->output_class);
  EXPECT_FALSE(options->predict_proba);
  EXPECT_FLOAT_EQ(options->threshold, 0.5f);
  EXPECT_EQ(ReadFilOptions(Config({{"model_type", "xgboost_json"}}))->model_file, "xgboost.json");
  EXPECT_EQ(ReadFilOptions(Config({{"model_type", "xgboost_ubj"}}))->model_file, "xgboost.ubj");
  inference::ModelConfig named = Config({{"model_type", "xgboost_json"}});
  named.set_default_model_filename("model.json");
  EXPECT_EQ(ReadFilOptions(named)->model_file, "model.json");
  options = ReadFilOptions(
      Config({{"output_class", "true"}, {"predict_proba", "true"}, {"threshold", "0.3"}}));
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->output_class);
  EXPECT_TRUE(options->predict_proba);
  EXPECT_FLOAT_EQ(options->threshold, 0.3f);
}

TEST(FilOptionsTest, OtherFormatsAreUnimplementedAndBadValuesInvalid) {
  for (const char* type : {"lightgbm", "treelite_checkpoint"}) {
    absl::Status status = ReadFilOptions(Config({{"model_type", type}})).status();
    EXPECT_TRUE(absl::IsUnimplemented(status)) << status;
    EXPECT_THAT(status.message(), HasSubstr("not supported by this build"));
    EXPECT_THAT(status.message(), HasSubstr(type));
  }
  absl::Status status = ReadFilOptions(Config({{"model_type", "sklearn"}})).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("unknown model_type 'sklearn'"));
  status = ReadFilOptions(Config({{"output_class", "yes"}})).status();
  EXPECT_THAT(status.message(), HasSubstr("output_class must be \"true\" or \"false\""));
  status = ReadFilOptions(Config({{"threshold", "half"}})).status();
  EXPECT_THAT(status.message(), HasSubstr("threshold must be a number"));
  status = ReadFilOptions(Config({{"predict_proba", "true"}})).status();
  EXPECT_THAT(status.message(), HasSubstr("predict_proba needs output_class"));
}

TEST(FilOptionsTest, BinaryScoresBecomeClassesOrProbabilities) {
  const std::vector<float> scores = {0.2f, 0.7f, 0.5f};
  FilOptions options;
  options.output_class = true;
  options.threshold = 0.5f;
  std::vector<float> out(3);
  ASSERT_EQ(OutputWidth(options, 1, 1), 1);
  ShapeOutput(options, scores, 3, 1, 1, out);
  EXPECT_THAT(out, ElementsAre(0, 1, 0));  // above the threshold only
  options.threshold = 0.1f;
  ShapeOutput(options, scores, 3, 1, 1, out);
  EXPECT_THAT(out, ElementsAre(1, 1, 1));

  options.predict_proba = true;
  ASSERT_EQ(OutputWidth(options, 1, 1), 1);
  ShapeOutput(options, scores, 3, 1, 1, out);
  EXPECT_THAT(out, ElementsAre(0.2f, 0.7f, 0.5f));
  ASSERT_EQ(OutputWidth(options, 1, 2), 2);
  std::vector<float> pairs(6);
  ShapeOutput(options, scores, 3, 1, 2, pairs);
  EXPECT_THAT(pairs, ElementsAre(0.8f, 0.2f, 0.3f, 0.7f, 0.5f, 0.5f));
}

TEST(FilOptionsTest, MulticlassScoresBecomeTheBestClassOrStayAsGiven) {
  const std::vector<float> scores = {0.1f, 0.6f, 0.3f, 0.5f, 0.2f, 0.3f};  // 2 rows, 3 classes
  FilOptions options;
  ASSERT_EQ(OutputWidth(options, 3, -1), 3);  // output_class false: as XGBoost gives them
  std::vector<float> out(6);
  ShapeOutput(options, scores, 2, 3, 3, out);
  EXPECT_EQ(out, scores);
  options.output_class = true;
  ASSERT_EQ(OutputWidth(options, 3, 1), 1);
  std::vector<float> classes(2);
  ShapeOutput(options, scores, 2, 3, 1, classes);
  EXPECT_THAT(classes, ElementsAre(1, 0));
  options.predict_proba = true;
  ASSERT_EQ(OutputWidth(options, 3, 3), 3);
  ShapeOutput(options, scores, 2, 3, 3, out);
  EXPECT_EQ(out, scores);
}

}  // namespace
}  // namespace sonic::backends::fil
