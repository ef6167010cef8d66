#include "server/frontend/infer_response_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "byte_buffer_bytes.h"

namespace sonic::server {
namespace {

using sonic::testing::BytesOf;

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

// What protobuf serializes for the message BuildInferResponse makes of `response`.
std::string ProtobufBytes(InferenceResponse response) {
  inference::ModelInferResponse message;
  BuildInferResponse(std::move(response), message);
  return message.SerializeAsString();
}

TEST(EncodeInferResponseTest, WritesExactlyTheBytesProtobufSerializes) {
  std::vector<InferenceResponse> cases;
  cases.push_back({"m", 3, "req-7", {}});
  cases.back().outputs.push_back(Output("b", DataType::kFp32, {2, 2}, std::string(16, 'x')));
  cases.back().outputs.push_back(Output("a", DataType::kBytes, {1}, std::string("\1\0\0\0z", 5)));
  cases.back().outputs.push_back(Output("empty", DataType::kInt64, {0, 4}, ""));
  cases.push_back({"m", 0, "", {}});  // no id, no outputs
  cases.push_back({"model", 12345678901, "", {}});
  cases.back().outputs.push_back(Output("scalar", DataType::kInt32, {}, std::string(4, '\7')));
  // Large contents travel as slices of their own, between and after small ones; dims of
  // several varint bytes.
  cases.push_back({"big", 1, "id", {}});
  cases.back().outputs.push_back(
      Output("l1", DataType::kUint8, {1, kOwnedSliceBytes}, std::string(kOwnedSliceBytes, 'l')));
  cases.back().outputs.push_back(Output("s", DataType::kUint8, {3}, "sss"));
  cases.back().outputs.push_back(
      Output("l2", DataType::kUint8, {300000}, std::string(300000, 'L')));
  for (const InferenceResponse& response : cases) {
    SCOPED_TRACE(response.model_name);
    grpc::ByteBuffer out;
    InferenceResponse copy = response;
    ASSERT_TRUE(EncodeInferResponse(std::move(copy), out).ok());
    EXPECT_EQ(BytesOf(out), ProtobufBytes(response));
  }
}

TEST(EncodeInferResponseTest, HandsLargeContentsToGrpcWithoutCopying) {
  InferenceResponse response{"m", 1, "", {}};
  response.outputs.push_back(
      Output("o", DataType::kUint8, {kOwnedSliceBytes}, std::string(kOwnedSliceBytes, 'q')));
  const char* original = response.outputs[0].data.data();
  grpc::ByteBuffer out;
  ASSERT_TRUE(EncodeInferResponse(std::move(response), out).ok());
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(out.Dump(&slices).ok());
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(reinterpret_cast<const char*>(slices[1].begin()), original);
  EXPECT_EQ(slices[1].size(), kOwnedSliceBytes);
}

}  // namespace
}  // namespace sonic::server
