#include "model_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "google/protobuf/text_format.h"
#include "sonic/client/client_error.h"

namespace sonic::client::internal {
namespace {

using ::testing::HasSubstr;

constexpr char kConfig[] = R"pb(
  name: "tagger"
  max_batch_size: 8
  input {
    name: "points"
    data_type: TYPE_FP32
    dims: [ -1, 2 ]
    allow_ragged_batch: true
  }
  input {
    name: "mask"
    data_type: TYPE_BOOL
    dims: [ -1 ]
    optional: true
  }
  output {
    name: "score"
    data_type: TYPE_FP32
    dims: [ 3 ]
  }
  output {
    name: "label"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }
)pb";

inference::ModelConfig Config() {
  inference::ModelConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kConfig, &config));
  return config;
}

inference::ModelMetadataResponse Metadata() {
  inference::ModelMetadataResponse metadata;
  auto add = [](auto* tensor, const char* name, const char* type, std::vector<int64_t> shape) {
    tensor->set_name(name);
    tensor->set_datatype(type);
    for (int64_t dim : shape) tensor->add_shape(dim);
  };
  add(metadata.add_inputs(), "points", "FP32", {-1, -1, 2});
  add(metadata.add_inputs(), "mask", "BOOL", {-1, -1});
  add(metadata.add_outputs(), "score", "FP32", {-1, 3});
  add(metadata.add_outputs(), "label", "BYTES", {-1, 1});
  return metadata;
}

TEST(ModelIoTest, DescribesTensorsWithoutTheBatchDimension) {
  absl::StatusOr<ModelIo> io = DescribeModel(Metadata(), Config(), {}, "model 'tagger'");
  ASSERT_TRUE(io.ok()) << io.status();
  EXPECT_EQ(io->max_batch_size, 8);
  ASSERT_EQ(io->inputs.size(), 2u);
  EXPECT_EQ(io->inputs[0].name, "points");
  EXPECT_EQ(io->inputs[0].dims, (Shape{-1, 2}));
  EXPECT_TRUE(io->inputs[0].allow_ragged_batch);
  EXPECT_TRUE(io->inputs[1].optional);
  EXPECT_EQ(io->inputs[1].type, DataType::kBool);
  ASSERT_EQ(io->outputs.size(), 2u);
  EXPECT_EQ(io->outputs[1].type, DataType::kBytes);
}

TEST(ModelIoTest, RequestedOutputsSelectAndUnknownOnesAreRefused) {
  absl::StatusOr<ModelIo> io = DescribeModel(Metadata(), Config(), {"label"}, "m");
  ASSERT_TRUE(io.ok());
  ASSERT_EQ(io->outputs.size(), 1u);
  EXPECT_EQ(io->outputs[0].name, "label");
  absl::StatusOr<ModelIo> bad = DescribeModel(Metadata(), Config(), {"nope"}, "m");
  EXPECT_EQ(GetErrorCategory(bad.status()), ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'nope'"));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("score, label"));
}

class LocalConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("sonic_local_config_" + std::to_string(::getpid()) + ".pbtxt");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  absl::Status Check(const std::string& text) {
    std::ofstream(path_) << text;
    return CheckLocalConfig(path_.string(), Config(), "", "model 'tagger'");
  }
  std::filesystem::path path_;
};

TEST_F(LocalConfigTest, TheSameConfigPasses) { EXPECT_TRUE(Check(kConfig).ok()); }

TEST_F(LocalConfigTest, ADifferenceIsAModelErrorNamingIt) {
  std::string text = kConfig;
  text.replace(text.find("dims: [ 3 ]"), 11, "dims: [ 4 ]");
  absl::Status status = Check(text);
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kModelError);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("output 'score' has dims [4] locally, [3] on the server"));

  text = kConfig;
  text.replace(text.find("max_batch_size: 8"), 17, "max_batch_size: 4");
  EXPECT_THAT(std::string(Check(text).message()),
              HasSubstr("max_batch_size is 4 locally, 8 on the server"));
}

// The config with a checksum agent listing `entries` ("MD5:1/model.pt" -> digest).
inference::ModelConfig WithChecksums(const std::map<std::string, std::string>& entries) {
  inference::ModelConfig config = Config();
  auto* agent = config.mutable_model_repository_agents()->add_agents();
  agent->set_name("checksum");
  for (const auto& [key, digest] : entries) (*agent->mutable_parameters())[key] = digest;
  return config;
}

TEST(ModelVersionTest, ChecksumAgentEntriesMustAgree) {
  const auto v1 = WithChecksums({{"MD5:1/model.pt", "aaa"}, {"MD5:labels.txt", "ccc"}});
  EXPECT_EQ(ModelVersionDifference(v1, v1, ""), "");
  const auto other = WithChecksums({{"MD5:1/model.pt", "bbb"}, {"MD5:labels.txt", "ccc"}});
  EXPECT_EQ(ModelVersionDifference(v1, other, ""),
            "checksum MD5:1/model.pt is aaa locally, bbb on the server");
  EXPECT_EQ(ModelVersionDifference(v1, Config(), ""),
            "checksum MD5:1/model.pt is not on the server");
  EXPECT_EQ(ModelVersionDifference(Config(), v1, ""),
            "checksum MD5:1/model.pt is only on the server");
  // Other agents do not count.
  inference::ModelConfig foreign = Config();
  auto* agent = foreign.mutable_model_repository_agents()->add_agents();
  agent->set_name("decrypt");
  (*agent->mutable_parameters())["MD5:1/model.pt"] = "zzz";
  EXPECT_EQ(ModelVersionDifference(Config(), foreign, ""), "");
}

TEST(ModelVersionTest, AVersionComparesOnlyItsOwnFilesAndTopLevelOnes) {
  const auto local = WithChecksums({{"MD5:1/model.pt", "aaa"}, {"MD5:2/model.pt", "old"}});
  const auto server = WithChecksums({{"MD5:1/model.pt", "aaa"}, {"MD5:2/model.pt", "new"}});
  EXPECT_EQ(ModelVersionDifference(local, server, "1"), "");
  EXPECT_THAT(ModelVersionDifference(local, server, "2"), HasSubstr("MD5:2/model.pt is old"));
  EXPECT_THAT(ModelVersionDifference(local, server, ""), HasSubstr("MD5:2/model.pt"));
  const auto top = WithChecksums({{"MD5:1/model.pt", "aaa"}, {"MD5:labels.txt", "x"}});
  EXPECT_THAT(ModelVersionDifference(top, WithChecksums({{"MD5:1/model.pt", "aaa"}}), "1"),
              HasSubstr("MD5:labels.txt"));
}

TEST_F(LocalConfigTest, AChecksumDifferenceIsAModelVersionMismatch) {
  std::string text = kConfig;
  text += R"pb(model_repository_agents { agents
                                         [ {
                                           name: "checksum"
                                           parameters { key: "MD5:1/model.pt" value: "aaa" }
                                         }] })pb";
  absl::Status status = Check(text);
  EXPECT_EQ(GetErrorCategory(status), ErrorCategory::kModelError);
  EXPECT_FALSE(MayRetry(status));
  EXPECT_THAT(std::string(status.message()), HasSubstr("model version mismatch"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(path_.string()));
  EXPECT_THAT(std::string(status.message()), HasSubstr("MD5:1/model.pt is not on the server"));
}

TEST_F(LocalConfigTest, UnreadableOrInvalidFilesAreBadInput) {
  EXPECT_EQ(GetErrorCategory(Check("max_batch_size: {")), ErrorCategory::kBadInput);
  absl::Status missing = CheckLocalConfig("/nonexistent/config.pbtxt", Config(), "", "m");
  EXPECT_THAT(std::string(missing.message()), HasSubstr("cannot read"));
}

}  // namespace
}  // namespace sonic::client::internal
