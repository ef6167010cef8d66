#include "region_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "io_access.h"

namespace sonic::client::internal {
namespace {

// Two ragged entries (3 and 5 floats) of input "x", and fixed-size output "y" ([2] floats) and
// variable-size output "z": two requests, inputs in the region, "y" in the region, "z" not.
class RegionLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = std::make_unique<TritonInputData>(
        TensorInfo{"x", DataType::kFp32, {-1}, true, false, false}, "model 'm'");
    IoAccess::SetBatchSize(*input_, 2);
    auto data = *input_->allocate<float>();
    for (size_t i = 0; i < 2; ++i) {
      const int64_t length = i == 0 ? 3 : 5;
      ASSERT_TRUE(input_->setShape({length}, i).ok());
      (*data)[i].assign(static_cast<size_t>(length), 1.0f);
    }
    ASSERT_TRUE(input_->toServer(data).ok());
    inputs_ = {input_.get()};
    outputs_.try_emplace("y", TensorInfo{"y", DataType::kFp32, {2}, true, false, false}, "m");
    outputs_.try_emplace("z", TensorInfo{"z", DataType::kFp32, {-1}, true, false, false}, "m");
    plan_.mode = BatchMode::kRagged;
    plan_.requests = {PlannedRequest{0, 1}, PlannedRequest{1, 1}};
  }

  std::unique_ptr<TritonInputData> input_;
  std::vector<const TritonInputData*> inputs_;
  std::map<std::string, TritonOutputData> outputs_;
  RequestPlan plan_;
};

TEST_F(RegionLayoutTest, EveryInputComesBeforeEveryOutput) {
  std::vector<RequestLayout> layouts;
  const RegionExtent extent = LayOutRegion(plan_, inputs_, outputs_, true, layouts);
  ASSERT_EQ(layouts.size(), 2u);
  ASSERT_TRUE(layouts[0].inputs[0].has_value() && layouts[1].inputs[0].has_value());
  EXPECT_EQ(layouts[0].inputs[0]->offset, 0u);
  EXPECT_EQ(layouts[0].inputs[0]->size, 3 * sizeof(float));
  EXPECT_EQ(layouts[1].inputs[0]->offset, 64u);  // 64-byte aligned
  EXPECT_EQ(layouts[1].inputs[0]->size, 5 * sizeof(float));
  EXPECT_EQ(extent.input_end, 64 + 5 * sizeof(float));

  EXPECT_EQ(extent.output_begin, 128u);
  for (const RequestLayout& layout : layouts) {
    ASSERT_EQ(layout.outputs.count("y"), 1u);
    EXPECT_EQ(layout.outputs.count("z"), 0u);  // size unknown before the response
    EXPECT_GE(layout.outputs.at("y").offset, extent.output_begin);
    EXPECT_EQ(layout.outputs.at("y").size, 2 * sizeof(float));
  }
  EXPECT_EQ(layouts[1].outputs.at("y").offset, 192u);
  EXPECT_EQ(extent.size, 192 + 2 * sizeof(float));
}

TEST_F(RegionLayoutTest, WithoutOutputsInTheRegionTheOutputRangeIsEmpty) {
  outputs_.erase("y");
  std::vector<RequestLayout> layouts;
  const RegionExtent extent = LayOutRegion(plan_, inputs_, outputs_, true, layouts);
  EXPECT_EQ(extent.size, extent.input_end);
  EXPECT_EQ(extent.output_begin, extent.size);
}

}  // namespace
}  // namespace sonic::client::internal
