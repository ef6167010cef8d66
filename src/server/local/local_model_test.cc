#include "server/local/local_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "server/repository/temp_directory_for_test.h"
#include "test_models.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

std::span<const std::byte> Bytes(const std::vector<float>& values) {
  return std::as_bytes(std::span(values));
}

std::vector<float> Floats(const OutputTensor& tensor) {
  std::vector<float> values(tensor.data.size() / sizeof(float));
  std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
  return values;
}

class LocalModelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(testing::WriteTestRepository(dir_.path()).ok()); }
  TempDirectoryForTest dir_;
};

TEST_F(LocalModelTest, RunsABatchAndSplitsItPerRequest) {
  auto model = LocalModel::Load(dir_.path() / "identity_fp32");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->version(), 1);
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<float> b = {7, 8, 9};
  std::vector<LocalRequest> requests = {
      {{"INPUT0", DataType::kFp32, {2, 3}, Bytes(a)}},
      {{"INPUT0", DataType::kFp32, {1, 3}, Bytes(b)}},
  };
  auto responses = (*model)->Execute(requests);
  ASSERT_TRUE(responses.ok()) << responses.status();
  ASSERT_EQ(responses->size(), 2u);
  EXPECT_EQ((*responses)[0][0].name, "OUTPUT0");
  EXPECT_EQ((*responses)[0][0].shape, (Shape{2, 3}));
  EXPECT_EQ(Floats((*responses)[0][0]), a);
  EXPECT_EQ((*responses)[1][0].shape, (Shape{1, 3}));
  EXPECT_EQ(Floats((*responses)[1][0]), b);
}

TEST_F(LocalModelTest, RaggedRequestsGetTheirBatchInputs) {
  if (!testing::HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  auto model = LocalModel::Load(dir_.path() / "torch_ragged_sum");
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<float> a = {1, 2, 3};
  std::vector<float> b = {10, 20};
  std::vector<LocalRequest> requests = {
      {{"x", DataType::kFp32, {1, 3}, Bytes(a)}},
      {{"x", DataType::kFp32, {1, 2}, Bytes(b)}},
  };
  const std::vector<std::string> outputs = {"sum"};
  auto responses = (*model)->Execute(requests, outputs);
  ASSERT_TRUE(responses.ok()) << responses.status();
  ASSERT_EQ(responses->size(), 2u);
  ASSERT_EQ((*responses)[0].size(), 1u);
  EXPECT_EQ(Floats((*responses)[0][0]), std::vector<float>{6});
  EXPECT_EQ(Floats((*responses)[1][0]), std::vector<float>{30});
}

TEST_F(LocalModelTest, RefusesWhatTheServerWouldRefuse) {
  auto model = LocalModel::Load(dir_.path() / "identity_fp32");
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<float> values = {1, 2, 3};
  auto run = [&](LocalRequest request) {
    std::vector<LocalRequest> requests = {std::move(request)};
    return std::string((*model)->Execute(requests).status().message());
  };
  EXPECT_THAT(run({{"INPUT0", DataType::kFp64, {1, 3}, Bytes(values)}}),
              HasSubstr("datatype FP64"));
  EXPECT_THAT(run({{"INPUT0", DataType::kFp32, {3}, Bytes(values)}}),
              HasSubstr("has shape [3]"));
  EXPECT_THAT(run({{"INPUT0", DataType::kFp32, {1, 4}, Bytes(values)}}),
              HasSubstr("came with 12 bytes"));
  std::vector<float> nine(9);
  EXPECT_THAT(run({{"INPUT0", DataType::kFp32, {9, 1}, Bytes(nine)}}),
              HasSubstr("exceeds max_batch_size 8"));
  EXPECT_THAT(run({}), HasSubstr("needs input 'INPUT0'"));
  EXPECT_THAT(run({{"INPUT0", DataType::kFp32, {1, 3}, Bytes(values)},
                   {"EXTRA", DataType::kFp32, {1, 3}, Bytes(values)}}),
              HasSubstr("has no input 'EXTRA'"));
  std::vector<LocalRequest> unbatchable = {{{"INPUT0", DataType::kFp32, {1, 3}, Bytes(values)}},
                                           {{"INPUT0", DataType::kFp32, {3, 1}, Bytes(values)}}};
  EXPECT_THAT(std::string((*model)->Execute(unbatchable).status().message()),
              HasSubstr("cannot run in one batch"));
  // After refusals the model still runs.
  EXPECT_EQ(run({{"INPUT0", DataType::kFp32, {1, 3}, Bytes(values)}}), "");
}

TEST_F(LocalModelTest, MissingOrInvalidModelsAreErrors) {
  EXPECT_EQ(LocalModel::Load(dir_.path() / "no_such_model").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LocalModel::Load(dir_.path() / "bad_config").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir_.path() / "identity_fp32" / "1");
  EXPECT_EQ(LocalModel::Load(dir_.path() / "identity_fp32").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sonic::server
