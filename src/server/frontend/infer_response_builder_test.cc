#include "server/frontend/infer_response_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace sonic::server {
namespace {

OutputTensor Output(std::string name, DataType type, Shape shape, std::string data) {
  OutputTensor output;
  output.name = std::move(name);
  output.type = type;
  output.shape = std::move(shape);
  output.data = std::move(data);
  return output;
}

TEST(InferResponseBuilderTest, FillsHeaderAndOneRawEntryPerOutputInOrder) {
  InferenceResponse response;
  response.model_name = "m";
  response.model_version = 3;
  response.id = "req-7";
  response.outputs.push_back(Output("b", DataType::kFp32, {2, 2}, std::string(16, 'x')));
  response.outputs.push_back(Output("a", DataType::kBytes, {1}, std::string("\1\0\0\0z", 5)));
  response.outputs.push_back(Output("empty", DataType::kInt64, {0, 4}, ""));

  inference::ModelInferResponse message;
  BuildInferResponse(std::move(response), message);

  EXPECT_EQ(message.model_name(), "m");
  EXPECT_EQ(message.model_version(), "3");
  EXPECT_EQ(message.id(), "req-7");
  ASSERT_EQ(message.outputs_size(), 3);
  ASSERT_EQ(message.raw_output_contents_size(), 3);
  EXPECT_EQ(message.outputs(0).name(), "b");
  EXPECT_EQ(message.outputs(0).datatype(), "FP32");
  EXPECT_EQ(
      std::vector<int64_t>(message.outputs(0).shape().begin(), message.outputs(0).shape().end()),
      (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(message.raw_output_contents(0), std::string(16, 'x'));
  EXPECT_EQ(message.outputs(1).name(), "a");
  EXPECT_EQ(message.outputs(1).datatype(), "BYTES");
  EXPECT_EQ(message.raw_output_contents(1), std::string("\1\0\0\0z", 5));
  EXPECT_EQ(message.outputs(2).datatype(), "INT64");
  EXPECT_EQ(message.outputs(2).shape_size(), 2);
  EXPECT_EQ(message.raw_output_contents(2), "");
}

TEST(InferResponseBuilderTest, MovesOutputDataWithoutCopying) {
  InferenceResponse response;
  response.outputs.push_back(Output("o", DataType::kUint8, {4096}, std::string(4096, 'q')));
  const char* original = response.outputs[0].data.data();

  inference::ModelInferResponse message;
  BuildInferResponse(std::move(response), message);

  ASSERT_EQ(message.raw_output_contents_size(), 1);
  EXPECT_EQ(message.raw_output_contents(0).data(), original);
  EXPECT_EQ(message.raw_output_contents(0).size(), 4096u);
}

TEST(InferResponseBuilderTest, NoOutputsGivesEmptyAlignedLists) {
  InferenceResponse response;
  response.model_name = "m";
  inference::ModelInferResponse message;
  BuildInferResponse(std::move(response), message);
  EXPECT_EQ(message.model_version(), "0");
  EXPECT_EQ(message.outputs_size(), 0);
  EXPECT_EQ(message.raw_output_contents_size(), 0);
}

}  // namespace
}  // namespace sonic::server
