// Batching through TritonClient against the real server: rectangular batches of torch_mlp
// compared with the same model run in-process, and ragged batches both ways (a model without
// allow_ragged_batch gets one request per entry; torch_ragged_sum batches them raggedly).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client_test_util.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

using client::BatchMode;
using client::SonicMode;
using client::TritonClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClientBatchingTest : public ::testing::TestWithParam<SonicMode> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TestServer> server = StartTestServer({});
    setup_ = server.status();
    if (server.ok()) server_ = std::make_unique<TestServer>(*std::move(server));
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_.ok()) << setup_; }

  std::unique_ptr<TritonClient> NewClient(const std::string& model) {
    absl::StatusOr<std::unique_ptr<TritonClient>> client =
        TritonClient::Create(ClientOptions(*server_, model, GetParam()));
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  static inline std::unique_ptr<TestServer> server_;
  static inline absl::Status setup_;
};

std::vector<std::vector<float>> MlpRows(int rows, float seed) {
  std::vector<std::vector<float>> batch(rows, std::vector<float>(kTorchMlpInputSize));
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < kTorchMlpInputSize; ++i) {
      batch[r][i] = seed * static_cast<float>((r * 7 + i * 3) % 11) - 0.5f;
    }
  }
  return batch;
}

TEST_P(ClientBatchingTest, RectangularBatchesMatchTheModelRunInProcess) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  std::unique_ptr<TritonClient> client = NewClient("torch_mlp");
  ASSERT_NE(client, nullptr);
  for (int rows : {1, 5, 8}) {
    const std::vector<std::vector<float>> batch = MlpRows(rows, 0.1f * static_cast<float>(rows));
    ASSERT_TRUE(SendFp32(*client, "INPUT__0", batch).ok());
    absl::Status status = DispatchAndWait(*client);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(client->lastBatchMode(), BatchMode::kRectangular);
    EXPECT_EQ(client->lastRequestCount(), 1u);

    std::vector<float> flat;
    for (const auto& row : batch) flat.insert(flat.end(), row.begin(), row.end());
    absl::StatusOr<std::vector<float>> expected =
        RunTorchMlpInProcess(server_->repository(), flat);
    ASSERT_TRUE(expected.ok()) << expected.status();
    absl::StatusOr<std::vector<std::vector<float>>> actual = ReadFp32(*client, "OUTPUT__0");
    ASSERT_TRUE(actual.ok()) << actual.status();
    ASSERT_EQ(actual->size(), static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      ASSERT_EQ((*actual)[r].size(), static_cast<size_t>(kTorchMlpOutputSize));
      for (int o = 0; o < kTorchMlpOutputSize; ++o) {
        EXPECT_NEAR((*actual)[r][o], (*expected)[r * kTorchMlpOutputSize + o], 1e-5)
            << "row " << r << " output " << o;
      }
    }
    client->reset();
  }
}

TEST_P(ClientBatchingTest, ABatchOverMaxBatchSizeIsRefused) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32");
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", std::vector<std::vector<float>>(9, {1, 2})).ok());
  absl::Status status = DispatchAndWait(*client);
  EXPECT_EQ(client::GetErrorCategory(status), client::ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(status.message()), HasSubstr("max_batch_size 8"));
  // The same entries as a ragged batch: one request each.
  client->setBatchMode(BatchMode::kRagged);
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_EQ(client->lastRequestCount(), 9u);
  EXPECT_EQ(ReadFp32(*client, "OUTPUT0")->size(), 9u);
}

TEST_P(ClientBatchingTest, AModelThatDoesNotBatchRefusesARectangularBatch) {
  std::unique_ptr<TritonClient> client = NewClient("identity_delay");  // max_batch_size 0
  ASSERT_NE(client, nullptr);
  ASSERT_EQ(client->maxBatchSize(), 0);
  const std::vector<std::vector<float>> rows = {{1, 2, 3, 4}, {5, 6, 7, 8}};
  ASSERT_TRUE(SendFp32(*client, "INPUT0", rows).ok());
  absl::Status status = DispatchAndWait(*client);
  EXPECT_EQ(client::GetErrorCategory(status), client::ErrorCategory::kBadInput) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("does not batch"));
  client->setBatchMode(BatchMode::kRagged);
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_EQ(client->lastRequestCount(), 2u);
  EXPECT_EQ(*ReadFp32(*client, "OUTPUT0"), rows);
  client->resetBatchMode();
  EXPECT_EQ(client->batchMode(), BatchMode::kRectangular);
  client->reset();
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{9, 9, 9, 9}}).ok());  // one entry is fine
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_EQ(client->lastBatchMode(), BatchMode::kRectangular);
}

TEST_P(ClientBatchingTest, EntriesOfDifferentShapesGoAsOneRequestEach) {
  std::unique_ptr<TritonClient> client = NewClient("identity_fp32");
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "INPUT0", {{1}, {2, 3, 4}, {}, {5, 6}}).ok());
  absl::Status status = DispatchAndWait(*client);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(client->lastBatchMode(), BatchMode::kRagged);
  EXPECT_EQ(client->lastRequestCount(), 4u);
  EXPECT_THAT(*ReadFp32(*client, "OUTPUT0"),
              ElementsAre(ElementsAre(1), ElementsAre(2, 3, 4), ElementsAre(), ElementsAre(5, 6)));
  const client::TritonOutputData* output = *client->output("OUTPUT0");
  EXPECT_EQ(*output->shape(1), (Shape{3}));
}

TEST_P(ClientBatchingTest, ARaggedModelGetsEveryEntryAsItsOwnRequest) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  std::unique_ptr<TritonClient> client = NewClient("torch_ragged_sum");
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE((*client->input("x"))->allowRaggedBatch());
  // Different lengths, then equal ones: both must give one row per entry.
  for (const auto& entries : std::vector<std::vector<std::vector<float>>>{
           {{1, 2, 3}, {10}, {4, 5, 6, 7, 8}}, {{1, 1}, {2, 2}, {3, -3}}}) {
    ASSERT_TRUE(SendFp32(*client, "x", entries).ok());
    absl::Status status = DispatchAndWait(*client);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(client->lastBatchMode(), BatchMode::kRagged);
    EXPECT_EQ(client->lastRequestCount(), entries.size());
    absl::StatusOr<std::vector<std::vector<float>>> sums = ReadFp32(*client, "sum");
    absl::StatusOr<std::vector<std::vector<float>>> maxima = ReadFp32(*client, "max");
    ASSERT_TRUE(sums.ok() && maxima.ok()) << sums.status() << maxima.status();
    ASSERT_EQ(sums->size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      float sum = 0, max = entries[i][0];
      for (float v : entries[i]) sum += v, max = std::max(max, v);
      EXPECT_THAT((*sums)[i], ElementsAre(sum)) << "entry " << i;
      EXPECT_THAT((*maxima)[i], ElementsAre(max)) << "entry " << i;
    }
    client->reset();
  }
}

TEST_P(ClientBatchingTest, SeveralInputsAndOutputsTravelTogether) {
  if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
  std::unique_ptr<TritonClient> client = NewClient("torch_two_io");
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(SendFp32(*client, "a", {{1, 2, 3}, {4, 5, 6}}).ok());
  ASSERT_TRUE(SendFp32(*client, "b", {{2, 2, 2}, {-1, 0, 1}}).ok());
  ASSERT_TRUE(DispatchAndWait(*client).ok());
  EXPECT_THAT(*ReadFp32(*client, "OUTPUT__0"), ElementsAre(ElementsAre(3, 4, 5), ElementsAre(3, 5, 7)));
  EXPECT_THAT(*ReadFp32(*client, "OUTPUT__1"),
              ElementsAre(ElementsAre(2, 4, 6), ElementsAre(-4, 0, 6)));
}

INSTANTIATE_TEST_SUITE_P(Modes, ClientBatchingTest,
                         ::testing::Values(SonicMode::kSync, SonicMode::kAsync,
                                           SonicMode::kPseudoAsync),
                         [](const auto& info) {
                           return std::string(client::SonicModeName(info.param));
                         });

}  // namespace
}  // namespace sonic::testing
