#include "backends/onnxruntime/session_settings.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace sonic::backends::onnxruntime {
namespace {

using ::testing::HasSubstr;

inference::ModelConfig Config(const std::string& text) {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

TEST(SessionSettingsTest, DefaultsAreOnnxRuntimes) {
  absl::StatusOr<SessionSettings> settings = ReadSessionSettings(Config(""));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->intra_op_threads, 0);
  EXPECT_EQ(settings->inter_op_threads, 0);
  EXPECT_FALSE(settings->parallel_execution);
  EXPECT_EQ(GraphOptimizationName(settings->graph_optimization), "ORT_ENABLE_ALL");
}

TEST(SessionSettingsTest, ReadsTritonsParameters) {
  absl::StatusOr<SessionSettings> settings = ReadSessionSettings(Config(R"pb(
    parameters {
      key: "intra_op_thread_count"
      value { string_value: "2" }
    }
    parameters {
      key: "inter_op_thread_count"
      value { string_value: "3" }
    }
    parameters {
      key: "execution_mode"
      value { string_value: "1" }
    }
  )pb"));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->intra_op_threads, 2);
  EXPECT_EQ(settings->inter_op_threads, 3);
  EXPECT_TRUE(settings->parallel_execution);
}

TEST(SessionSettingsTest, MapsGraphLevelsAsTriton) {
  const std::pair<int, std::string_view> cases[] = {{-1, "ORT_ENABLE_BASIC"},
                                                    {0, "ORT_ENABLE_ALL"},
                                                    {1, "ORT_ENABLE_EXTENDED"},
                                                    {2, "ORT_DISABLE_ALL"},
                                                    {7, "ORT_ENABLE_ALL"}};
  for (const auto& [level, name] : cases) {
    absl::StatusOr<SessionSettings> settings = ReadSessionSettings(
        Config("optimization { graph { level: " + std::to_string(level) + " } }"));
    ASSERT_TRUE(settings.ok()) << settings.status();
    EXPECT_EQ(GraphOptimizationName(settings->graph_optimization), name) << "level " << level;
  }
}

TEST(SessionSettingsTest, RefusesBadParameters) {
  for (const char* text : {R"pb(parameters {
                                  key: "intra_op_thread_count"
                                  value { string_value: "-1" }
                                })pb",
                           R"pb(parameters {
                                  key: "inter_op_thread_count"
                                  value { string_value: "many" }
                                })pb",
                           R"pb(parameters {
                                  key: "execution_mode"
                                  value { string_value: "2" }
                                })pb"}) {
    absl::StatusOr<SessionSettings> settings = ReadSessionSettings(Config(text));
    ASSERT_FALSE(settings.ok()) << text;
    EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(settings.status().message()), HasSubstr("config parameter"));
  }
}

TEST(SessionSettingsTest, MapsOrtTypes) {
  EXPECT_EQ(DataTypeFromOrtType("tensor(float)"), DataType::kFp32);
  EXPECT_EQ(DataTypeFromOrtType("tensor(int64)"), DataType::kInt64);
  EXPECT_EQ(DataTypeFromOrtType("tensor(string)"), DataType::kBytes);
  EXPECT_EQ(DataTypeFromOrtType("tensor(bool)"), DataType::kBool);
  EXPECT_EQ(DataTypeFromOrtType("seq(tensor(float))"), std::nullopt);
}

}  // namespace
}  // namespace sonic::backends::onnxruntime
