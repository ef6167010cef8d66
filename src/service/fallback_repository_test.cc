#include "fallback_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sonic::service::internal {
namespace {

using ::testing::HasSubstr;

constexpr char kConfig[] = R"(name: "m"
backend: "identity"
max_batch_size: 8
instance_group { count: 2 kind: KIND_CPU }
input { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] }
output { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] }
)";

TEST(FallbackRepositoryTest, CountsInstances) {
  EXPECT_EQ(InstanceCount(kConfig), 2);
  EXPECT_EQ(InstanceCount("name: \"x\""), 1);
  EXPECT_EQ(InstanceCount("not { a config"), 1);
}

TEST(FallbackRepositoryTest, SetsThreadCountUnlessPresent) {
  const std::string text = WithThreadCount(kConfig, 3);
  EXPECT_THAT(text, HasSubstr("INTRA_OP_THREAD_COUNT"));
  EXPECT_THAT(text, HasSubstr("\"3\""));
  EXPECT_EQ(WithThreadCount(text, 5), text);
}

TEST(FallbackRepositoryTest, WritesExactlyTheModelsWithLinks) {
  const auto root = std::filesystem::temp_directory_path() /
                    ("sonic-repo-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "src" / "m" / "1");
  std::ofstream(root / "src" / "m" / "config.pbtxt") << kConfig;
  std::ofstream(root / "src" / "m" / "1" / "weights") << "w";
  auto threads = WriteFallbackRepository(root / "repo", {{"m", root / "src" / "m", ""}}, 8);
  ASSERT_TRUE(threads.ok()) << threads.status();
  EXPECT_EQ(threads->threads_per_instance, 4);  // 8 cores over 2 instances
  EXPECT_EQ(threads->instances, 2);
  // Added later beside 2 instances already served: 8 cores over 4; the folder is replaced.
  auto again = WriteFallbackRepository(root / "repo", {{"m", root / "src" / "m", ""}}, 8, 2);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->threads_per_instance, 2);
  EXPECT_TRUE(std::filesystem::is_symlink(root / "repo" / "m" / "1"));
  std::stringstream config;
  config << std::ifstream(root / "repo" / "m" / "config.pbtxt").rdbuf();
  EXPECT_THAT(config.str(), HasSubstr("INTRA_OP_THREAD_COUNT"));
  auto missing = WriteFallbackRepository(root / "repo2", {{"x", root / "nowhere", ""}}, 8);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("config.pbtxt"));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace sonic::service::internal
