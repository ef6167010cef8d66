#include "request_plan.h"

#include <gmock/gmock.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <gtest/gtest.h>

#include <cstring>

#include "io_access.h"
#include "sonic/client/client_error.h"

namespace sonic::client::internal {
namespace {

using ::testing::HasSubstr;

// The request as the server receives it.
inference::ModelInferRequest Sent(const InferRequestParts& parts) {
  absl::StatusOr<grpc::ByteBuffer> wire = EncodeInferRequest(parts);
  EXPECT_TRUE(wire.ok()) << wire.status();
  grpc::ProtoBufferReader reader(&*wire);
  inference::ModelInferRequest request;
  EXPECT_TRUE(request.ParseFromZeroCopyStream(&reader));
  return request;
}

class RequestPlanTest : public ::testing::Test {
 protected:
  // An FP32 input "x" with dims [-1] of a model with max_batch_size `max_batch`, holding
  // entries of the given lengths with values 0, 1, 2, ... across the batch.
  void Fill(const std::vector<int64_t>& lengths, bool batched = true) {
    input_ = std::make_unique<TritonInputData>(
        TensorInfo{"x", DataType::kFp32, {-1}, batched, false, false}, "model 'm'");
    IoAccess::SetBatchSize(*input_, lengths.size());
    auto data = *input_->allocate<float>();
    float next = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
      ASSERT_TRUE(input_->setShape({lengths[i]}, i).ok());
      for (int64_t j = 0; j < lengths[i]; ++j) (*data)[i].push_back(next++);
    }
    ASSERT_TRUE(input_->toServer(data).ok());
    inputs_ = {input_.get()};
  }

  std::unique_ptr<TritonInputData> input_;
  std::vector<const TritonInputData*> inputs_;
  std::map<std::string, TritonOutputData> outputs_;
};

TEST_F(RequestPlanTest, EqualShapesGoInOneRectangularRequest) {
  Fill({3, 3, 3});
  absl::StatusOr<RequestPlan> plan = PlanRequests(inputs_, 3, 8, BatchMode::kRectangular, "m");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->mode, BatchMode::kRectangular);
  ASSERT_EQ(plan->requests.size(), 1u);
  EXPECT_EQ(plan->requests[0].entry_count, 3u);

  outputs_.try_emplace("y", TensorInfo{"y", DataType::kFp32, {-1}, true, false, false}, "m");
  inference::ModelInferRequest request =
      Sent(BuildRequest("m", "1", inputs_, outputs_, plan->requests[0], /*batched=*/true));
  EXPECT_EQ(request.model_name(), "m");
  EXPECT_EQ(request.model_version(), "1");
  ASSERT_EQ(request.inputs_size(), 1);
  EXPECT_THAT(request.inputs(0).shape(), ::testing::ElementsAre(3, 3));
  EXPECT_EQ(request.inputs(0).datatype(), "FP32");
  ASSERT_EQ(request.raw_input_contents_size(), 1);
  EXPECT_EQ(request.raw_input_contents(0).size(), 9 * sizeof(float));
  ASSERT_EQ(request.outputs_size(), 1);
  EXPECT_EQ(request.outputs(0).name(), "y");
}

TEST_F(RequestPlanTest, DifferentShapesSwitchToOneRequestPerEntry) {
  Fill({1, 2, 3});
  absl::StatusOr<RequestPlan> plan = PlanRequests(inputs_, 3, 8, BatchMode::kRectangular, "m");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->mode, BatchMode::kRagged);
  ASSERT_EQ(plan->requests.size(), 3u);
  inference::ModelInferRequest third =
      Sent(BuildRequest("m", "", inputs_, outputs_, plan->requests[2], true));
  EXPECT_THAT(third.inputs(0).shape(), ::testing::ElementsAre(1, 3));
  std::vector<float> values(3);
  std::memcpy(values.data(), third.raw_input_contents(0).data(), 12);
  EXPECT_THAT(values, ::testing::ElementsAre(3, 4, 5));
}

TEST_F(RequestPlanTest, ForcedRaggedAndUnbatchedModelsSendOneRequestPerEntry) {
  Fill({2, 2});
  EXPECT_EQ(PlanRequests(inputs_, 2, 8, BatchMode::kRagged, "m")->requests.size(), 2u);
  Fill({2, 2}, /*batched=*/false);
  absl::StatusOr<RequestPlan> plan = PlanRequests(inputs_, 2, 0, BatchMode::kRagged, "m");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->requests.size(), 2u);
  inference::ModelInferRequest request =
      Sent(BuildRequest("m", "", inputs_, outputs_, plan->requests[0], /*batched=*/false));
  EXPECT_THAT(request.inputs(0).shape(), ::testing::ElementsAre(2));
}

TEST_F(RequestPlanTest, ARectangularBatchForAModelThatDoesNotBatchIsRefused) {
  Fill({2, 2}, /*batched=*/false);
  absl::StatusOr<RequestPlan> plan = PlanRequests(inputs_, 2, 0, BatchMode::kRectangular, "m");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(GetErrorCategory(plan.status()), ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("does not batch"));
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("BatchMode::kRagged"));
  EXPECT_EQ(PlanRequests(inputs_, 1, 0, BatchMode::kRectangular, "m")->requests.size(), 1u);
  // Entries of different shapes cannot be rectangular for any model: one request each.
  Fill({1, 3}, /*batched=*/false);
  EXPECT_EQ(PlanRequests(inputs_, 2, 0, BatchMode::kRectangular, "m")->requests.size(), 2u);
}

TEST_F(RequestPlanTest, ARaggedInputAlwaysGetsOneRequestPerEntry) {
  // The server batches allow_ragged_batch inputs per request, even for equal shapes.
  TritonInputData ragged(TensorInfo{"x", DataType::kFp32, {-1}, true, true, false}, "m");
  IoAccess::SetBatchSize(ragged, 2);
  ASSERT_TRUE(ragged.setShape({2}).ok());
  auto data = *ragged.allocate<float>();
  (*data)[0] = {1, 2};
  (*data)[1] = {3, 4};
  ASSERT_TRUE(ragged.toServer(data).ok());
  absl::StatusOr<RequestPlan> plan = PlanRequests({&ragged}, 2, 16, BatchMode::kRectangular, "m");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->mode, BatchMode::kRagged);
  EXPECT_EQ(plan->requests.size(), 2u);
}

TEST_F(RequestPlanTest, EmptyBatchPlansNothing) {
  Fill({});
  absl::StatusOr<RequestPlan> plan = PlanRequests(inputs_, 0, 8, BatchMode::kRectangular, "m");
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->requests.empty());
}

TEST_F(RequestPlanTest, RefusesMissingDataAndOversizedBatches) {
  Fill({1, 1, 1});
  absl::StatusOr<RequestPlan> big = PlanRequests(inputs_, 3, 2, BatchMode::kRectangular, "m");
  EXPECT_EQ(GetErrorCategory(big.status()), ErrorCategory::kBadInput);
  EXPECT_THAT(std::string(big.status().message()),
              HasSubstr("exceeds the model's max_batch_size 2"));
  IoAccess::Reset(*input_);
  absl::StatusOr<RequestPlan> empty = PlanRequests(inputs_, 3, 8, BatchMode::kRectangular, "m");
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("input 'x': no data"));
}

inference::ModelInferResponse Fp32Response(const Shape& shape, const std::vector<float>& values) {
  inference::ModelInferResponse response;
  auto* tensor = response.add_outputs();
  tensor->set_name("y");
  tensor->set_datatype("FP32");
  for (int64_t dim : shape) tensor->add_shape(dim);
  response.add_raw_output_contents(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4));
  return response;
}

TEST_F(RequestPlanTest, ResponsesSplitIntoEntryViews) {
  outputs_.try_emplace("y", TensorInfo{"y", DataType::kFp32, {2}, true, false, false}, "m");
  TritonOutputData& y = outputs_.at("y");
  inference::ModelInferResponse response = Fp32Response({2, 2}, {1, 2, 3, 4});
  IoAccess::ClearEntries(y, 3);
  ASSERT_TRUE(ReadResponse(response, {1, 2}, true, outputs_, "m").ok());
  IoAccess::Publish(y);
  auto views = *y.fromServer<float>();
  ASSERT_EQ(views.size(), 3u);
  EXPECT_TRUE(views[0].empty());
  EXPECT_THAT(std::vector<float>(views[2].begin(), views[2].end()), ::testing::ElementsAre(3, 4));
  EXPECT_EQ(reinterpret_cast<const char*>(views[1].data()),
            response.raw_output_contents(0).data());  // zero copy
}

TEST_F(RequestPlanTest, MalformedResponsesAreModelErrors) {
  outputs_.try_emplace("y", TensorInfo{"y", DataType::kFp32, {2}, true, false, false}, "m");
  IoAccess::ClearEntries(outputs_.at("y"), 2);
  inference::ModelInferResponse wrong_batch = Fp32Response({1, 2}, {1, 2});
  absl::Status batch = ReadResponse(wrong_batch, {0, 2}, true, outputs_, "m");
  EXPECT_EQ(GetErrorCategory(batch), ErrorCategory::kModelError);
  EXPECT_THAT(std::string(batch.message()), HasSubstr("for a batch of 2"));
  inference::ModelInferResponse short_data = Fp32Response({2, 2}, {1, 2, 3});
  EXPECT_THAT(std::string(ReadResponse(short_data, {0, 2}, true, outputs_, "m").message()),
              HasSubstr("12 bytes"));
  inference::ModelInferResponse unaligned = Fp32Response({2, 2}, {1, 2, 3, 4});
  unaligned.clear_raw_output_contents();
  EXPECT_THAT(std::string(ReadResponse(unaligned, {0, 2}, true, outputs_, "m").message()),
              HasSubstr("raw_output_contents"));
  inference::ModelInferResponse missing;
  EXPECT_THAT(std::string(ReadResponse(missing, {0, 2}, true, outputs_, "m").message()),
              HasSubstr("lacks this output"));
}

TEST_F(RequestPlanTest, StringOutputsSplitByElementCount) {
  outputs_.try_emplace("s", TensorInfo{"s", DataType::kBytes, {-1}, true, false, false}, "m");
  inference::ModelInferResponse response;
  auto* tensor = response.add_outputs();
  tensor->set_name("s");
  tensor->set_datatype("BYTES");
  tensor->add_shape(2);
  tensor->add_shape(1);
  response.add_raw_output_contents(std::string("\1\0\0\0a\2\0\0\0bc", 11));
  IoAccess::ClearEntries(outputs_.at("s"), 2);
  ASSERT_TRUE(ReadResponse(response, {0, 2}, true, outputs_, "m").ok());
  IoAccess::Publish(outputs_.at("s"));
  auto views = *outputs_.at("s").fromServer<std::string_view>();
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0][0], "a");
  EXPECT_EQ(views[1][0], "bc");
}

}  // namespace
}  // namespace sonic::client::internal
