// Ragged batching through a running sonic-server: requests of different lengths sent together to
// torch_ragged_sum (allow_ragged_batch input, BATCH_ACCUMULATED_ELEMENT_COUNT batch input) are
// run as one batch and each still gets exactly its own sum and maximum, the same as when sent
// alone. Skipped without LibTorch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <thread>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

constexpr char kModel[] = "torch_ragged_sum";

// Integer values, so that every sum is exact in float whatever the order of additions.
std::vector<float> Values(int request, int64_t length) {
  std::vector<float> values(static_cast<size_t>(length));
  for (int64_t j = 0; j < length; ++j) {
    values[j] = static_cast<float>((request * 37 + j * 11) % 23 - 9);
  }
  return values;
}

struct SumAndMax {
  float sum = 0;
  float max = 0;
  bool operator==(const SumAndMax&) const = default;
};

void PrintTo(const SumAndMax& value, std::ostream* os) {
  *os << "{sum " << value.sum << ", max " << value.max << "}";
}

class ServerRaggedTest : public SharedServerTest<ServerRaggedTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    if (!HaveTorchModels()) return absl::UnimplementedError("built without LibTorch");
    return StartTestServer({});
  }

 protected:
  void SetUp() override {
    if (!HaveTorchModels()) GTEST_SKIP() << "built without LibTorch";
    SharedServerTest::SetUp();
  }

  // Sends one request of batch size 1; the model's two outputs, or the RPC's error.
  absl::StatusOr<SumAndMax> SumOf(const std::vector<float>& values) {
    inference::ModelInferRequest request =
        Fp32Request(kModel, "x", {1, static_cast<int64_t>(values.size())}, values);
    inference::ModelInferResponse response;
    grpc::Status status = Infer(*stub_, request, &response);
    if (!status.ok()) return absl::InternalError(status.error_message());
    const std::string* sum = RawOutput(response, "sum");
    const std::string* max = RawOutput(response, "max");
    if (sum == nullptr || max == nullptr) return absl::InternalError("an output is missing");
    std::vector<float> sums = FromRaw<float>(*sum), maxs = FromRaw<float>(*max);
    if (sums.size() != 1 || maxs.size() != 1) {
      return absl::InternalError(
          absl::StrCat("expected one value per output, got ", sums.size(), " and ", maxs.size()));
    }
    for (const auto& output : response.outputs()) {
      if (std::vector<int64_t>(output.shape().begin(), output.shape().end()) !=
          std::vector<int64_t>{1, 1}) {
        return absl::InternalError(absl::StrCat("output '", output.name(), "' is not [1,1]"));
      }
    }
    return SumAndMax{sums[0], maxs[0]};
  }

  // The largest batch size any execution of the model had so far (0 when none ran).
  uint64_t LargestBatch() {
    inference::ModelStatisticsRequest request;
    request.set_name(kModel);
    inference::ModelStatisticsResponse response;
    grpc::Status status = stub_->ModelStatistics(NewContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    uint64_t largest = 0;
    for (const auto& model : response.model_stats()) {
      for (const auto& batch : model.batch_stats()) {
        if (batch.compute_infer().count() > 0) largest = std::max(largest, batch.batch_size());
      }
    }
    return largest;
  }
};

TEST_F(ServerRaggedTest, ConcurrentRequestsOfDifferentLengthsGetTheirOwnResults) {
  const std::vector<int64_t> lengths = {3, 1, 7, 4, 12, 2, 6, 5};
  std::vector<std::vector<float>> inputs;
  std::vector<SumAndMax> expected;
  for (size_t i = 0; i < lengths.size(); ++i) {
    inputs.push_back(Values(static_cast<int>(i), lengths[i]));
    const std::vector<float>& v = inputs.back();
    expected.push_back(
        {std::accumulate(v.begin(), v.end(), 0.0f), *std::max_element(v.begin(), v.end())});
  }

  // Up to three rounds, until one ran as a batch of several (threads start within the batcher's
  // 100 ms window unless the machine is very loaded); every round's results must be exact.
  for (int round = 0; round < 3 && LargestBatch() <= 1; ++round) {
    SCOPED_TRACE(round);
    std::vector<absl::StatusOr<SumAndMax>> results(inputs.size(), absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < inputs.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = SumOf(inputs[i]); });
    }
    for (std::thread& thread : threads) thread.join();
    for (size_t i = 0; i < inputs.size(); ++i) {
      ASSERT_TRUE(results[i].ok()) << "request " << i << ": " << results[i].status();
      EXPECT_EQ(*results[i], expected[i]) << "request " << i << " of length " << lengths[i];
    }
  }
  EXPECT_GT(LargestBatch(), 1u) << "no execution batched several requests";

  // Alone, each request gives the same result as in a batch.
  for (size_t i = 0; i < inputs.size(); ++i) {
    absl::StatusOr<SumAndMax> alone = SumOf(inputs[i]);
    ASSERT_TRUE(alone.ok()) << "request " << i << ": " << alone.status();
    EXPECT_EQ(*alone, expected[i]) << "request " << i << " alone";
  }
}

TEST_F(ServerRaggedTest, BatchInputIsNotAClientInput) {
  // "offsets" is built by the server: the model's metadata and config list only "x" as input.
  absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, kModel);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->input_size(), 1);
  EXPECT_EQ(config->input(0).name(), "x");
  EXPECT_TRUE(config->input(0).allow_ragged_batch());
  ASSERT_EQ(config->batch_input_size(), 1);
  EXPECT_EQ(config->batch_input(0).target_name(0), "offsets");

  inference::ModelMetadataRequest request;
  request.set_name(kModel);
  inference::ModelMetadataResponse metadata;
  grpc::Status status = stub_->ModelMetadata(NewContext().get(), request, &metadata);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).name(), "x");
}

}  // namespace
}  // namespace sonic::testing
